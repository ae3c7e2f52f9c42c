"""CIDs: `CidLink` (a link in IPLD form), parsing CID strings, and computing CIDv1s."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

import libipld

__all__ = [
    "CODEC_DAG_CBOR",
    "CODEC_RAW",
    "CidLink",
    "cid_for_bytes",
    "is_exact_cidv1",
    "parse_cid",
]

CODEC_RAW = 0x55
CODEC_DAG_CBOR = 0x71
_SHA2_256 = 0x12


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
        if not is_exact_cidv1(raw):
            raise ValueError(f"not a CIDv1: {text[:80]!r}")
        return cls(raw)

    @classmethod
    def from_raw(cls, raw: bytes) -> CidLink:
        """Check and wrap a binary CIDv1."""
        if not is_exact_cidv1(raw):
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


def is_exact_cidv1(raw: bytes) -> bool:
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
