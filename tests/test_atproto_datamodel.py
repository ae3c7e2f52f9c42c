"""DAG-CBOR records, CIDs and signatures against the atproto interop test files."""

from __future__ import annotations

import base64
import hashlib
import json
import random
from pathlib import Path
from typing import Any

import libipld
import pytest

from plyr.atproto import dagcbor
from plyr.atproto.dagcbor import (
    CidLink,
    DataModelError,
    cid_for_bytes,
    decode_record,
    encode_record,
    ipld_to_json,
    json_to_ipld,
    record_cid,
)
from plyr.atproto.signatures import (
    InvalidKey,
    PublicKey,
    SigningKey,
    format_did_key,
    parse_did_key,
    parse_public_key_multibase,
    verify_signature,
)

INTEROP = Path(__file__).parent / "fixtures" / "interop"


def _load(relative: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((INTEROP / relative).read_text(encoding="utf-8"))
    return data


def _b64(text: str) -> bytes:
    """The fixtures write base64 without padding."""
    return base64.b64decode(text + "=" * (-len(text) % 4))


FIXTURES = _load("data-model/data-model-fixtures.json")
VALID = _load("data-model/data-model-valid.json")
INVALID = _load("data-model/data-model-invalid.json")
SIGNATURES = _load("crypto/signature-fixtures.json")
K256_KEYS = _load("crypto/w3c_didkey_K256.json")
P256_KEYS = _load("crypto/w3c_didkey_P256.json")


# ---------------------------------------------------------------------------------------
# data model fixtures


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f["cid"])
def test_fixture_encodes_to_the_exact_bytes_and_cid(fixture: dict[str, Any]) -> None:
    expected = _b64(fixture["cbor_base64"])
    assert encode_record(fixture["json"]) == expected
    assert record_cid(fixture["json"]) == fixture["cid"]
    assert cid_for_bytes(expected, "dag-cbor") == fixture["cid"]


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f["cid"])
def test_fixture_decodes_back_to_the_json(fixture: dict[str, Any]) -> None:
    data = _b64(fixture["cbor_base64"])
    decoded = decode_record(data)
    assert ipld_to_json(decoded) == fixture["json"]
    assert decoded == json_to_ipld(fixture["json"])
    # the strict fallback codec agrees with libipld on every fixture
    assert dagcbor._decode_pure(data) == decoded
    assert dagcbor._encode_pure(decoded) == data


@pytest.mark.parametrize("case", VALID, ids=lambda c: c["note"])
def test_valid_values_are_accepted(case: dict[str, Any]) -> None:
    ipld = json_to_ipld(case["json"])
    data = encode_record(case["json"])
    assert decode_record(data) == ipld
    assert json_to_ipld(ipld_to_json(ipld)) == ipld
    assert record_cid(case["json"]).startswith("bafyrei")


def test_integral_float_is_the_integer() -> None:
    # JSON (and JavaScript) cannot tell 123 from 123.0; both mean the integer.
    assert json_to_ipld({"a": 123.0}) == {"a": 123}
    assert isinstance(json_to_ipld({"a": 123.0})["a"], int)
    assert record_cid({"a": 123.0}) == record_cid({"a": 123})


@pytest.mark.parametrize("case", INVALID, ids=lambda c: c["note"])
def test_invalid_values_are_refused(case: dict[str, Any]) -> None:
    with pytest.raises(DataModelError):
        json_to_ipld(case["json"])
    with pytest.raises(DataModelError):
        encode_record(case["json"])


@pytest.mark.parametrize("value", [0.5, -1.25, float("nan"), float("inf"), 1e300 * 10, 2.0**64])
def test_floats_are_refused(value: float) -> None:
    with pytest.raises(DataModelError, match=r"float|64-bit") as caught:
        record_cid({"$type": "fm.plyr.track", "duration": value})
    assert caught.value.path == "$.duration"


def test_floats_in_cbor_are_refused() -> None:
    with pytest.raises(DataModelError, match="float"):
        decode_record(libipld.encode_dag_cbor({"a": 1.5}))


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({"a": (1, 2)}, "tuple"),
        ({"a": {1: 2}}, "keys must be strings"),
        ({"a": "\ud800"}, "surrogate"),
        ({"a": 1 << 63}, "64-bit"),
        ({"a": {"$bytes": "not base64!"}}, "base64"),
        ({"a": {"$link": "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR"}}, "CIDv1"),
        ({"$link": "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a"}, "top level"),
        (
            {
                "b": {
                    "$type": "blob",
                    "ref": {"$link": "bafkreiccldh766hwcnuxnf2wh6jgzepf2nlu2lvcllt63eww5p6chi4ity"},
                    "mimeType": "audio/mpeg",
                    "size": 1,
                    "extra": True,
                }
            },
            "unknown keys",
        ),
        (
            {"b": {"$type": "blob", "ref": "bafy", "mimeType": "audio/mpeg", "size": 1}},
            "CID link",
        ),
    ],
)
def test_more_bad_values(value: Any, match: str) -> None:
    with pytest.raises(DataModelError, match=match):
        json_to_ipld(value)


def test_deep_nesting_is_refused() -> None:
    value: Any = 1
    for _ in range(200):
        value = [value]
    with pytest.raises(DataModelError, match="nested deeper"):
        json_to_ipld({"a": value})


def test_record_cid_matches_libipld() -> None:
    record = {
        "$type": "fm.plyr.track",
        "title": "song",
        "artist": "someone",
        "fileType": "flac",
        "duration": 215,
        "createdAt": "2024-05-06T07:08:09.123Z",
        "audioBlob": {
            "$type": "blob",
            "ref": {"$link": "bafkreiccldh766hwcnuxnf2wh6jgzepf2nlu2lvcllt63eww5p6chi4ity"},
            "mimeType": "audio/flac",
            "size": 1234567,
        },
    }
    data = encode_record(record)
    # libipld's own encoding of the same value (links as raw CID bytes)
    plain = json.loads(json.dumps(record))
    plain["audioBlob"]["ref"] = libipld.decode_multibase(plain["audioBlob"]["ref"]["$link"])[1]
    assert data == libipld.encode_dag_cbor(plain)
    cid = libipld.decode_cid(record_cid(record))
    assert (cid["version"], cid["codec"]) == (1, 0x71)
    assert (cid["hash"]["code"], cid["hash"]["size"]) == (0x12, 32)
    assert cid["hash"]["digest"] == hashlib.sha256(data).digest()
    assert CidLink.from_str(record_cid(record)).is_blessed


def test_cid_for_bytes_raw_is_the_blob_cid() -> None:
    audio = b"ID3" + bytes(1000)
    cid = cid_for_bytes(audio)
    info = libipld.decode_cid(cid)
    assert cid.startswith("bafkrei")
    assert (info["version"], info["codec"]) == (1, 0x55)
    assert info["hash"]["digest"] == hashlib.sha256(audio).digest()
    # the blob CID in fixture 2 is such a raw CID
    assert CidLink.from_str(FIXTURES[1]["json"]["c"]["ref"]["$link"]).codec == 0x55


def test_cid_links_round_trip() -> None:
    text = "bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a"
    link = CidLink.from_str(text)
    assert str(link) == text
    assert CidLink.from_raw(link.raw) == link
    assert repr(link) == f"CidLink({text!r})"
    with pytest.raises(ValueError, match="CIDv1"):
        CidLink.from_raw(link.raw + b"junk")
    with pytest.raises(ValueError, match="CIDv1"):
        CidLink.from_str("bafy")


def test_bytes_that_look_like_a_cid_stay_bytes() -> None:
    # libipld alone would write these bytes as a link; the record must keep them bytes.
    looks_like_cid = CidLink.from_str(FIXTURES[1]["json"]["a"]["$link"]).raw
    for value in (looks_like_cid, looks_like_cid + b"tail", b"\x12\x20" + bytes(32)):
        record = {"bytes": value, "link": CidLink(looks_like_cid)}
        data = encode_record(record)
        assert data == dagcbor._encode_pure(record)
        assert data[data.index(b"ebytes") + 6] >> 5 == 2  # a byte string, not tag 42
        assert decode_record(data) == record
        assert ipld_to_json(decode_record(data))["bytes"] == {
            "$bytes": base64.b64encode(value).decode().rstrip("=")
        }


def test_non_canonical_cbor_is_refused() -> None:
    with pytest.raises(DataModelError, match="shortest"):
        decode_record(bytes.fromhex("a161611817"))  # {"a": 23} with a 1-byte argument
    with pytest.raises(DataModelError):
        decode_record(bytes.fromhex("a2616201616101"))  # keys out of order
    with pytest.raises(DataModelError):
        decode_record(encode_record({"a": 1}) + b"\x00")  # trailing bytes
    cidv0 = libipld.decode_multibase("zQmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR")[1]
    v0_link = bytes.fromhex("a16161d82a5823") + b"\x00" + cidv0
    with pytest.raises(DataModelError, match="CIDv1"):
        decode_record(v0_link)


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kinds = ["int", "str", "bytes", "bool", "none", "link"]
    if depth < 3:
        kinds += ["list", "dict", "dict"]
    kind = rng.choice(kinds)
    if kind == "int":
        return rng.choice([0, 1, 23, 24, 255, 256, 65535, 65536, 2**32, -1, -24, -25, -(2**63)])
    if kind == "str":
        return "".join(rng.choice("aé☎😀z") for _ in range(rng.randrange(0, 30)))
    if kind == "bytes":
        return rng.randbytes(rng.randrange(0, 40))
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "link":
        return CidLink.from_str(cid_for_bytes(rng.randbytes(8), rng.choice(["raw", "dag-cbor"])))
    if kind == "list":
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    keys = ["a", "b", "aa", "ab", "ba", "é", "z" * 30, "$type2", "x" * 300]
    return {rng.choice(keys): _random_value(rng, depth + 1) for _ in range(rng.randrange(0, 6))}


def test_both_codecs_agree_on_random_records() -> None:
    rng = random.Random(1234)
    for _ in range(500):
        record = {"v": _random_value(rng)}
        data = encode_record(record)
        assert data == dagcbor._encode_pure(record)
        assert decode_record(data) == record
        assert dagcbor._decode_pure(data) == record
        assert json_to_ipld(ipld_to_json(record)) == record


# ---------------------------------------------------------------------------------------
# signatures


@pytest.mark.parametrize("fixture", SIGNATURES, ids=lambda f: f["comment"])
def test_signature_fixtures(fixture: dict[str, Any]) -> None:
    message = _b64(fixture["messageBase64"])
    signature = _b64(fixture["signatureBase64"])
    assert (
        verify_signature(fixture["publicKeyDid"], message, signature) is fixture["validSignature"]
    )
    key = parse_did_key(fixture["publicKeyDid"])
    assert key.jwt_alg == fixture["algorithm"]
    legacy = parse_public_key_multibase(fixture["publicKeyMultibase"], fixture["didDocSuite"])
    assert legacy == key
    assert parse_public_key_multibase(key.multikey()) == key


@pytest.mark.parametrize("fixture", K256_KEYS, ids=lambda f: f["publicDidKey"])
def test_w3c_k256_did_keys(fixture: dict[str, Any]) -> None:
    key = SigningKey.from_private_bytes("secp256k1", bytes.fromhex(fixture["privateKeyBytesHex"]))
    assert key.did_key() == fixture["publicDidKey"]
    assert format_did_key(key.public_key) == fixture["publicDidKey"]
    assert parse_did_key(fixture["publicDidKey"]).curve == "secp256k1"


@pytest.mark.parametrize("fixture", P256_KEYS, ids=lambda f: f["publicDidKey"])
def test_w3c_p256_did_keys(fixture: dict[str, Any]) -> None:
    raw = libipld.decode_multibase("z" + fixture["privateKeyBytesBase58"])[1]
    key = SigningKey.from_private_bytes("p256", raw)
    assert key.did_key() == fixture["publicDidKey"]
    assert key.private_bytes() == raw
    assert parse_did_key(fixture["publicDidKey"]).curve == "p256"


@pytest.mark.parametrize("curve", ["p256", "secp256k1"])
def test_sign_and_verify(curve: Any) -> None:
    key = SigningKey.generate(curve)
    assert format_did_key(key.public_key.crypto_key()) == key.did_key()
    for index in range(50):  # about half of raw ECDSA signatures are high-S
        message = f"label {index}".encode()
        signature = key.sign(message)
        assert len(signature) == 64
        s = int.from_bytes(signature[32:], "big")
        assert s <= _curve_order(curve) // 2
        assert verify_signature(key.did_key(), message, signature)
        assert not verify_signature(key.did_key(), message + b"!", signature)
    high_s = signature[:32] + (_curve_order(curve) - s).to_bytes(32, "big")
    assert not verify_signature(key.did_key(), message, high_s)
    other = SigningKey.generate(curve)
    assert not verify_signature(other.did_key(), message, signature)
    reloaded = SigningKey.from_private_bytes(curve, key.private_bytes())
    assert reloaded.did_key() == key.did_key()
    assert reloaded.sign(b"x") == key.sign(b"x")  # RFC 6979: deterministic


def _curve_order(curve: str) -> int:
    return {
        "p256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
        "secp256k1": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
    }[curve]


def test_signing_a_label() -> None:
    key = SigningKey.generate("secp256k1")
    label = {
        "ver": 1,
        "src": "did:plc:7iza6de2dwap2sbkpav7c6c6",
        "uri": "at://did:plc:abc/fm.plyr.track/3jzfcijpj2z2a",
        "val": "spam",
        "neg": False,
        "cts": "2024-05-06T07:08:09.123Z",
    }
    signature = key.sign(encode_record(label))
    signed = {**label, "sig": signature}
    unsigned = {k: v for k, v in decode_record(encode_record(signed)).items() if k != "sig"}
    assert verify_signature(key.did_key(), encode_record(unsigned), signed["sig"])


@pytest.mark.parametrize(
    ("did_key", "match"),
    [
        ("did:web:example.com", "not a did:key"),
        ("did:key:abc", "base58btc"),
        ("did:key:z0OIl", "base58btc"),
        # ed25519 (multicodec 0xed) is a valid did:key but not an atproto key
        ("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "unsupported key type"),
    ],
)
def test_bad_did_keys(did_key: str, match: str) -> None:
    with pytest.raises(InvalidKey, match=match):
        parse_did_key(did_key)


def test_bad_public_and_private_keys() -> None:
    with pytest.raises(InvalidKey, match="33-byte"):
        PublicKey("p256", bytes(33))
    with pytest.raises(InvalidKey, match="not a point"):
        PublicKey("p256", b"\x02" + b"\xff" * 32)
    with pytest.raises(InvalidKey, match="out of range"):
        SigningKey.from_private_bytes("secp256k1", bytes(32))
    with pytest.raises(InvalidKey, match="32 bytes"):
        SigningKey.from_private_bytes("p256", bytes(31))
    with pytest.raises(InvalidKey, match="verification method"):
        parse_public_key_multibase("zabc", "Ed25519VerificationKey2020")
