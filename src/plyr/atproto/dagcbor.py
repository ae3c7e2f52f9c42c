"""The atproto data model: JSON form, IPLD form, DAG-CBOR bytes and CIDs.

A record travels in two shapes:

* JSON form, as XRPC calls and Jetstream carry it: links are `{"$link": "<cid>"}`,
  byte strings are `{"$bytes": "<base64>"}`, blobs are
  `{"$type": "blob", "ref": {"$link": ...}, "mimeType": ..., "size": ...}`.
* IPLD form, what DAG-CBOR encodes: links are `CidLink`, byte strings are `bytes`.

`json_to_ipld` converts and validates (it is where bad data is refused: floats, malformed
links, blobs or `$type`s), `ipld_to_json` converts back. `encode_record` gives the
canonical DAG-CBOR bytes and `record_cid` the CID a PDS computes for the record.

Encoding uses libipld. libipld represents a link and a byte string alike (both as
`bytes`) and decides by looking: bytes that parse as a CID are written as a link. So
whenever a value holds a byte string that looks like a CID (or a link libipld would not
recognise), the small strict codec in this module encodes or decodes it instead; the
two agree byte for byte on everything else (the tests check it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
from dataclasses import dataclass
from typing import Any, Literal

import libipld

__all__ = [
    "CODEC_DAG_CBOR",
    "CODEC_RAW",
    "CidLink",
    "DataModelError",
    "cid_for_bytes",
    "decode_record",
    "encode_ipld",
    "encode_record",
    "ipld_to_json",
    "json_to_ipld",
    "parse_cid",
    "record_cid",
]

CODEC_RAW = 0x55
CODEC_DAG_CBOR = 0x71
_SHA2_256 = 0x12
_CID_TAG = 42
_INT_MIN = -(1 << 63)
_INT_MAX = (1 << 63) - 1
MAX_DEPTH = 128
"""Deepest nesting of lists and objects accepted (a guard, far beyond real records)."""


class DataModelError(ValueError):
    """A value is not valid in the atproto data model; `path` locates it (`$.a[0].b`)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{reason} (at {path})")


@dataclass(frozen=True, slots=True)
class CidLink:
    """A CID link in IPLD form: the binary CID (without DAG-CBOR's 0x00 prefix)."""

    raw: bytes

    @classmethod
    def from_str(cls, text: str) -> CidLink:
        """Parse a CIDv1 string (any multibase; atproto writes base32 `b...`)."""
        try:
            libipld.decode_cid(text)
            raw = libipld.decode_multibase(text)[1]
        except ValueError as exc:
            raise ValueError(f"not a CIDv1: {text[:80]!r}") from exc
        if not _is_exact_cidv1(raw):
            raise ValueError(f"not a CIDv1: {text[:80]!r}")
        return cls(raw)

    @classmethod
    def from_raw(cls, raw: bytes) -> CidLink:
        """Check and wrap a binary CIDv1."""
        if not _is_exact_cidv1(raw):
            raise ValueError("not a binary CIDv1")
        return cls(bytes(raw))

    def __str__(self) -> str:
        return libipld.encode_cid(self.raw)

    def __repr__(self) -> str:
        return f"CidLink({str(self)!r})"

    @property
    def codec(self) -> int:
        return int(libipld.decode_cid(self.raw)["codec"])

    @property
    def is_blessed(self) -> bool:
        """The form atproto writes: CIDv1, dag-cbor or raw codec, 256-bit SHA-256."""
        info = libipld.decode_cid(self.raw)
        hash_info = info["hash"]
        return bool(
            info["codec"] in (CODEC_DAG_CBOR, CODEC_RAW)
            and hash_info["code"] == _SHA2_256
            and hash_info["size"] == 32
        )


def _is_exact_cidv1(raw: bytes) -> bool:
    """A whole binary CIDv1: libipld's parser alone would accept trailing bytes."""
    if raw[:1] != b"\x01":
        return False
    try:
        return bool(libipld.decode_multibase(libipld.encode_cid(raw))[1] == raw)
    except ValueError:
        return False


def parse_cid(text: str) -> CidLink:
    """A CID string, checked: raises ValueError unless it is a decodable CIDv1."""
    return CidLink.from_str(text)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def cid_for_bytes(data: bytes, codec: Literal["raw", "dag-cbor"] = "raw") -> str:
    """The CIDv1 (SHA-256) of `data`: codec `raw` for blobs, `dag-cbor` for records."""
    code = {"raw": CODEC_RAW, "dag-cbor": CODEC_DAG_CBOR}[codec]
    digest = hashlib.sha256(data).digest()
    raw = b"\x01" + _varint(code) + bytes([_SHA2_256, len(digest)]) + digest
    return libipld.encode_cid(raw)


# ---------------------------------------------------------------------------------------
# JSON form <-> IPLD form

_BLOB_KEYS = frozenset({"$type", "ref", "mimeType", "size"})


def _b64decode(text: str, path: str) -> bytes:
    if len(text) % 4 == 1:
        raise DataModelError(path, "$bytes is not valid base64")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DataModelError(path, "$bytes is not valid base64") from exc


def _check_int(value: int, path: str) -> int:
    if not _INT_MIN <= value <= _INT_MAX:
        raise DataModelError(path, "integer outside the signed 64-bit range")
    return value


def _check_str(value: str, path: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise DataModelError(path, "string is not valid Unicode (lone surrogate)") from exc
    return value


def _from_json(value: Any, path: str, depth: int) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _check_int(value, path)
    if isinstance(value, float):
        # JSON cannot tell 123 from 123.0 (JavaScript writes both alike), so an
        # integral float is taken as the integer; any other float is refused.
        if math.isfinite(value) and value.is_integer():
            return _check_int(int(value), path)
        raise DataModelError(
            path, f"floats are not allowed in the atproto data model (got {value!r})"
        )
    if isinstance(value, str):
        return _check_str(value, path)
    if isinstance(value, (bytes, CidLink)):
        return value
    if depth >= MAX_DEPTH:
        raise DataModelError(path, f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, list):
        return [_from_json(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    if not isinstance(value, dict):
        raise DataModelError(path, f"{type(value).__name__} is not a data model type")
    for key in value:
        if not isinstance(key, str):
            raise DataModelError(path, f"object keys must be strings, got {key!r}")
        _check_str(key, path)
    if "$link" in value:
        link = value["$link"]
        if len(value) != 1:
            raise DataModelError(path, "a $link object has no other keys")
        if not isinstance(link, str):
            raise DataModelError(path, "$link must be a CID string")
        try:
            return CidLink.from_str(link)
        except ValueError as exc:
            raise DataModelError(path, f"$link: {exc}") from exc
    if "$bytes" in value:
        data = value["$bytes"]
        if len(value) != 1:
            raise DataModelError(path, "a $bytes object has no other keys")
        if not isinstance(data, str):
            raise DataModelError(path, "$bytes must be a base64 string")
        return _b64decode(data, path)
    out = {key: _from_json(item, f"{path}.{key}", depth + 1) for key, item in value.items()}
    if "$type" in out:
        type_ = out["$type"]
        if not isinstance(type_, str) or not type_:
            raise DataModelError(f"{path}.$type", "$type must be a non-empty string")
        if type_ == "blob":
            _check_blob(out, path)
    return out


def _check_blob(blob: dict[str, Any], path: str) -> None:
    missing = _BLOB_KEYS - blob.keys()
    if missing:
        raise DataModelError(path, f"blob lacks {', '.join(sorted(missing))}")
    extra = blob.keys() - _BLOB_KEYS
    if extra:
        raise DataModelError(path, f"blob has unknown keys {', '.join(sorted(extra))}")
    if not isinstance(blob["ref"], CidLink):
        raise DataModelError(f"{path}.ref", "a blob ref must be a CID link")
    mime_type = blob["mimeType"]
    if not isinstance(mime_type, str) or not mime_type:
        raise DataModelError(f"{path}.mimeType", "mimeType must be a non-empty string")
    size = blob["size"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise DataModelError(f"{path}.size", "size must be a non-negative integer")


def json_to_ipld(value: Any) -> dict[str, Any]:
    """Validate a record-like object in JSON form and convert it to IPLD form.

    The top level must be an object. Values already in IPLD form (`CidLink`, `bytes`)
    pass through, so a caller may mix both forms.
    """
    if not isinstance(value, dict):
        raise DataModelError("$", f"the top level must be an object, got {type(value).__name__}")
    result: dict[str, Any] = _from_json(value, "$", 0)
    if not isinstance(result, dict):  # a top-level {"$link": ...} or {"$bytes": ...}
        raise DataModelError("$", "the top level must be an object, not a link or bytes")
    return result


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def ipld_to_json(value: Any) -> Any:
    """IPLD form to JSON form: `CidLink` -> `{"$link"}`, `bytes` -> `{"$bytes"}`."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, CidLink):
        return {"$link": str(value)}
    if isinstance(value, bytes):
        return {"$bytes": _b64encode(value)}
    if isinstance(value, list):
        return [ipld_to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: ipld_to_json(item) for key, item in value.items()}
    raise DataModelError("$", f"{type(value).__name__} is not a data model type")


# ---------------------------------------------------------------------------------------
# DAG-CBOR


class _Ambiguous(Exception):
    """libipld would take a byte string for a link (or a link for a byte string)."""


def _libipld_sees_link(data: bytes) -> bool:
    # Only byte strings shaped like a binary CID (v1: 0x01 ..., v0: 0x12 0x20 ...) can be
    # taken for one; ask libipld itself for those so the rule is exactly its own.
    if data[:1] not in (b"\x01", b"\x12"):
        return False
    return libipld.encode_dag_cbor(data)[0] == 0xD8


def _to_libipld(value: Any) -> Any:
    if isinstance(value, CidLink):
        if not _libipld_sees_link(value.raw):
            raise _Ambiguous
        return value.raw
    if isinstance(value, bytes):
        if _libipld_sees_link(value):
            raise _Ambiguous
        return value
    if isinstance(value, list):
        return [_to_libipld(item) for item in value]
    if isinstance(value, dict):
        return {key: _to_libipld(item) for key, item in value.items()}
    return value


def _head(major: int, argument: int, out: bytearray) -> None:
    if argument < 24:
        out.append(major << 5 | argument)
    elif argument < 1 << 8:
        out.append(major << 5 | 24)
        out.append(argument)
    elif argument < 1 << 16:
        out.append(major << 5 | 25)
        out += argument.to_bytes(2, "big")
    elif argument < 1 << 32:
        out.append(major << 5 | 26)
        out += argument.to_bytes(4, "big")
    else:
        out.append(major << 5 | 27)
        out += argument.to_bytes(8, "big")


def _encode_value(value: Any, out: bytearray) -> None:
    if value is None:
        out.append(0xF6)
    elif value is True:
        out.append(0xF5)
    elif value is False:
        out.append(0xF4)
    elif isinstance(value, int):
        if value >= 0:
            _head(0, value, out)
        else:
            _head(1, -1 - value, out)
    elif isinstance(value, str):
        data = value.encode("utf-8")
        _head(3, len(data), out)
        out += data
    elif isinstance(value, bytes):
        _head(2, len(value), out)
        out += value
    elif isinstance(value, CidLink):
        _head(6, _CID_TAG, out)
        _head(2, len(value.raw) + 1, out)
        out.append(0)
        out += value.raw
    elif isinstance(value, list):
        _head(4, len(value), out)
        for item in value:
            _encode_value(item, out)
    elif isinstance(value, dict):
        # DAG-CBOR's canonical key order: shorter keys first, then bytewise.
        keys = sorted((key.encode("utf-8"), key) for key in value)
        keys.sort(key=lambda pair: len(pair[0]))  # stable: bytewise within a length
        _head(5, len(keys), out)
        for data, key in keys:
            _head(3, len(data), out)
            out += data
            _encode_value(value[key], out)
    else:
        raise DataModelError("$", f"{type(value).__name__} is not a data model type")


def _encode_pure(value: Any) -> bytes:
    out = bytearray()
    _encode_value(value, out)
    return bytes(out)


def encode_ipld(value: Any) -> bytes:
    """DAG-CBOR bytes of a value already in IPLD form (and already validated)."""
    try:
        prepared = _to_libipld(value)
    except _Ambiguous:
        return _encode_pure(value)
    return libipld.encode_dag_cbor(prepared)


def encode_record(value: Any) -> bytes:
    """Validate a record (JSON or IPLD form) and return its canonical DAG-CBOR bytes."""
    return encode_ipld(json_to_ipld(value))


def record_cid(value: Any) -> str:
    """The CID (CIDv1, dag-cbor, SHA-256, base32) of a record, as a PDS computes it."""
    return cid_for_bytes(encode_record(value), "dag-cbor")


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, count: int) -> bytes:
        end = self.pos + count
        if end > len(self.data):
            raise DataModelError("$", "DAG-CBOR data ends early")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk


_MINIMUM_FOR_WIDTH = {24: (1, 24), 25: (2, 1 << 8), 26: (4, 1 << 16), 27: (8, 1 << 32)}


def _read_head(reader: _Reader) -> tuple[int, int, int]:
    initial = reader.take(1)[0]
    major, info = initial >> 5, initial & 31
    if info < 24:
        return major, info, info
    if info not in _MINIMUM_FOR_WIDTH:
        raise DataModelError("$", "indefinite lengths are not allowed in DAG-CBOR")
    width, minimum = _MINIMUM_FOR_WIDTH[info]
    argument = int.from_bytes(reader.take(width), "big")
    if major != 7 and argument < minimum:
        raise DataModelError("$", "DAG-CBOR requires the shortest encoding of a number")
    return major, info, argument


def _decode_value(reader: _Reader, depth: int) -> Any:
    major, info, argument = _read_head(reader)
    if major == 0:
        return _check_int(argument, "$")
    if major == 1:
        return _check_int(-1 - argument, "$")
    if major == 2:
        return reader.take(argument)
    if major == 3:
        try:
            return reader.take(argument).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataModelError("$", "text is not valid UTF-8") from exc
    if major == 7:
        simple = {20: False, 21: True, 22: None}
        if info in simple:
            return simple[info]
        if info in (25, 26, 27):
            raise DataModelError("$", "floats are not allowed in the atproto data model")
        raise DataModelError("$", f"CBOR simple value {info} is not allowed")
    if depth >= MAX_DEPTH:
        raise DataModelError("$", f"nested deeper than {MAX_DEPTH} levels")
    if major == 4:
        return [_decode_value(reader, depth + 1) for _ in range(argument)]
    if major == 5:
        result: dict[str, Any] = {}
        previous: bytes | None = None
        for _ in range(argument):
            key_major, _, key_length = _read_head(reader)
            if key_major != 3:
                raise DataModelError("$", "object keys must be strings")
            key_bytes = reader.take(key_length)
            if previous is not None and (len(previous), previous) >= (len(key_bytes), key_bytes):
                raise DataModelError("$", "object keys are out of canonical order or repeated")
            previous = key_bytes
            try:
                key = key_bytes.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DataModelError("$", "object key is not valid UTF-8") from exc
            result[key] = _decode_value(reader, depth + 1)
        return result
    # major 6: a tag; DAG-CBOR allows only 42, a link
    if argument != _CID_TAG:
        raise DataModelError("$", f"CBOR tag {argument} is not allowed in DAG-CBOR")
    inner_major, _, length = _read_head(reader)
    payload = reader.take(length) if inner_major == 2 else b""
    if inner_major != 2 or payload[:1] != b"\x00":
        raise DataModelError("$", "a link must be a byte string starting with 0x00")
    try:
        return CidLink.from_raw(payload[1:])
    except ValueError as exc:
        raise DataModelError("$", f"bad link: {exc}") from exc


def _decode_pure(data: bytes) -> Any:
    reader = _Reader(data)
    value = _decode_value(reader, 0)
    if reader.pos != len(data):
        raise DataModelError("$", "trailing bytes after the DAG-CBOR value")
    return value


class _Careful(Exception):
    """libipld's result cannot be trusted as is; decode with the strict codec."""


def _from_libipld(value: Any) -> Any:
    if isinstance(value, bytes):
        if not _libipld_sees_link(value):
            return value
        if not _is_exact_cidv1(value):
            raise _Careful  # a CIDv0 link, or a byte string that merely looks like a CID
        return CidLink(value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return _check_int(value, "$")
    if isinstance(value, float):
        raise DataModelError("$", "floats are not allowed in the atproto data model")
    if isinstance(value, list):
        return [_from_libipld(item) for item in value]
    return {key: _from_libipld(item) for key, item in value.items()}


def decode_record(data: bytes) -> Any:
    """Canonical DAG-CBOR bytes to a value in IPLD form (links as `CidLink`).

    Refuses non-canonical encodings, floats, tags other than links, CIDv0 links and
    trailing bytes.
    """
    try:
        decoded = libipld.decode_dag_cbor(data)
        value = _from_libipld(decoded)
    except (ValueError, _Careful):
        return _decode_pure(data)
    # libipld returns links and byte strings alike, and tolerates some non-canonical
    # forms. Re-encoding gives the input back exactly when the data was canonical and
    # every guess above (link or bytes) was right; otherwise the strict codec decides.
    if libipld.encode_dag_cbor(decoded) != data:
        return _decode_pure(data)
    return value
