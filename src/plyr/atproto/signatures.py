"""ATProto signatures: P-256 and secp256k1 keys, did:key, low-S compact ECDSA.

atproto signs bytes with ECDSA over SHA-256 of the bytes, on one of two curves:

* P-256 (NIST p256, JWT `ES256`), multicodec `p256-pub` 0x1200
* secp256k1 (JWT `ES256K`), multicodec `secp256k1-pub` 0xe7

A signature is the 64-byte concatenation r || s (not DER) and must be "low-S"
(s <= n/2) so that each message/key has one valid signature; anything else is refused.
Public keys travel as `did:key:z...`: base58btc multibase of the multicodec varint plus
the 33-byte compressed point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import libipld
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

__all__ = [
    "Curve",
    "InvalidKey",
    "PublicKey",
    "SigningKey",
    "format_did_key",
    "parse_did_key",
    "parse_multikey",
    "parse_public_key_multibase",
    "verify_signature",
]

Curve = Literal["p256", "secp256k1"]

DID_KEY_PREFIX = "did:key:"
SIGNATURE_LENGTH = 64


@dataclass(frozen=True, slots=True)
class _CurveInfo:
    name: Curve
    multicodec: bytes  # varint of the multicodec code
    order: int
    jwt_alg: str
    legacy_suite: str

    def ec_curve(self) -> ec.EllipticCurve:
        return ec.SECP256R1() if self.name == "p256" else ec.SECP256K1()


_CURVES: dict[Curve, _CurveInfo] = {
    "p256": _CurveInfo(
        name="p256",
        multicodec=b"\x80\x24",  # 0x1200
        order=0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
        jwt_alg="ES256",
        legacy_suite="EcdsaSecp256r1VerificationKey2019",
    ),
    "secp256k1": _CurveInfo(
        name="secp256k1",
        multicodec=b"\xe7\x01",  # 0xe7
        order=0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
        jwt_alg="ES256K",
        legacy_suite="EcdsaSecp256k1VerificationKey2019",
    ),
}


class InvalidKey(ValueError):
    """A did:key, multibase key or private key that atproto cannot use."""


@dataclass(frozen=True, slots=True)
class PublicKey:
    """An atproto public key: its curve and 33-byte compressed point."""

    curve: Curve
    compressed: bytes

    def __post_init__(self) -> None:
        if self.curve not in _CURVES:
            raise InvalidKey(f"unsupported curve {self.curve!r}")
        if len(self.compressed) != 33 or self.compressed[0] not in (2, 3):
            raise InvalidKey("expected a 33-byte compressed curve point")
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(
                _CURVES[self.curve].ec_curve(), self.compressed
            )
        except ValueError as exc:
            raise InvalidKey(f"not a point on {self.curve}") from exc

    @property
    def jwt_alg(self) -> str:
        """`ES256` for P-256, `ES256K` for secp256k1."""
        return _CURVES[self.curve].jwt_alg

    def multikey(self) -> str:
        """The `publicKeyMultibase` of a `Multikey` verification method (`z...`)."""
        return libipld.encode_multibase("z", _CURVES[self.curve].multicodec + self.compressed)

    def did_key(self) -> str:
        return DID_KEY_PREFIX + self.multikey()

    def crypto_key(self) -> ec.EllipticCurvePublicKey:
        return ec.EllipticCurvePublicKey.from_encoded_point(
            _CURVES[self.curve].ec_curve(), self.compressed
        )

    def verify(self, data: bytes, signature: bytes) -> bool:
        """True only for a valid 64-byte low-S signature of SHA-256(data) by this key."""
        if len(signature) != SIGNATURE_LENGTH:
            return False  # DER and other encodings are not atproto signatures
        order = _CURVES[self.curve].order
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        if not (0 < r < order and 0 < s <= order // 2):
            return False  # out of range, or high-S (malleable; refused by atproto)
        try:
            self.crypto_key().verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True


def parse_multikey(multibase: str) -> PublicKey:
    """A key from multibase(multicodec + compressed point), as in did:key and `Multikey`."""
    if not multibase.startswith("z"):
        raise InvalidKey("expected base58btc multibase (a leading 'z')")
    try:
        _, data = libipld.decode_multibase(multibase)
    except ValueError as exc:
        raise InvalidKey("not valid base58btc") from exc
    for info in _CURVES.values():
        if data.startswith(info.multicodec):
            return PublicKey(info.name, data[len(info.multicodec) :])
    raise InvalidKey("unsupported key type (atproto uses p256-pub or secp256k1-pub)")


def parse_public_key_multibase(multibase: str, suite: str = "Multikey") -> PublicKey:
    """A key from a DID document's verification method (`type`, `publicKeyMultibase`).

    `Multikey` carries the multicodec prefix; the older suites name the curve instead
    and carry the bare compressed point.
    """
    if suite == "Multikey":
        return parse_multikey(multibase)
    for info in _CURVES.values():
        if suite == info.legacy_suite:
            if not multibase.startswith("z"):
                raise InvalidKey("expected base58btc multibase (a leading 'z')")
            try:
                _, data = libipld.decode_multibase(multibase)
            except ValueError as exc:
                raise InvalidKey("not valid base58btc") from exc
            return PublicKey(info.name, data)
    raise InvalidKey(f"unsupported verification method type {suite!r}")


def parse_did_key(did_key: str) -> PublicKey:
    if not did_key.startswith(DID_KEY_PREFIX):
        raise InvalidKey(f"not a did:key: {did_key[:60]!r}")
    return parse_multikey(did_key[len(DID_KEY_PREFIX) :])


def format_did_key(key: PublicKey | ec.EllipticCurvePublicKey) -> str:
    """The did:key of a public key (ours, or a `cryptography` P-256/secp256k1 key)."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        key = _from_crypto_public(key)
    return key.did_key()


def _curve_of(curve: ec.EllipticCurve) -> Curve:
    if isinstance(curve, ec.SECP256R1):
        return "p256"
    if isinstance(curve, ec.SECP256K1):
        return "secp256k1"
    raise InvalidKey(f"unsupported curve {curve.name}")


def _from_crypto_public(key: ec.EllipticCurvePublicKey) -> PublicKey:
    compressed = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    return PublicKey(_curve_of(key.curve), compressed)


def verify_signature(did_key: str, data: bytes, signature: bytes) -> bool:
    """Whether `signature` is a valid atproto signature of `data` by the did:key.

    A malformed did:key raises InvalidKey; a bad signature is simply False.
    """
    return parse_did_key(did_key).verify(data, signature)


class SigningKey:
    """A private key that makes atproto signatures (deterministic RFC 6979, low-S)."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._curve = _curve_of(key.curve)
        self._key = key
        self._public = _from_crypto_public(key.public_key())

    @classmethod
    def generate(cls, curve: Curve = "p256") -> SigningKey:
        if curve not in _CURVES:
            raise InvalidKey(f"unsupported curve {curve!r}")
        return cls(ec.generate_private_key(_CURVES[curve].ec_curve()))

    @classmethod
    def from_private_bytes(cls, curve: Curve, raw: bytes) -> SigningKey:
        """Load a 32-byte big-endian private scalar (the form atproto tooling stores)."""
        if curve not in _CURVES:
            raise InvalidKey(f"unsupported curve {curve!r}")
        if len(raw) != 32:
            raise InvalidKey("a private key is 32 bytes")
        scalar = int.from_bytes(raw, "big")
        if not 0 < scalar < _CURVES[curve].order:
            raise InvalidKey("private key out of range for the curve")
        return cls(ec.derive_private_key(scalar, _CURVES[curve].ec_curve()))

    @property
    def curve(self) -> Curve:
        return self._curve

    @property
    def public_key(self) -> PublicKey:
        return self._public

    @property
    def jwt_alg(self) -> str:
        return self._public.jwt_alg

    def private_bytes(self) -> bytes:
        return self._key.private_numbers().private_value.to_bytes(32, "big")

    def did_key(self) -> str:
        return self._public.did_key()

    def sign(self, data: bytes) -> bytes:
        """The 64-byte compact low-S signature of SHA-256(data)."""
        der = self._key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        r, s = decode_dss_signature(der)
        order = _CURVES[self._curve].order
        if s > order // 2:
            s = order - s
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def __repr__(self) -> str:
        return f"SigningKey({self._curve}, {self.did_key()})"
