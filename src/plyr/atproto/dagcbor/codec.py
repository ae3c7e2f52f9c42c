"""Records to canonical DAG-CBOR bytes and back, and the CID a PDS computes for a record.

Encoding uses libipld. libipld represents a link and a byte string alike (both as
`bytes`) and decides by looking: bytes that parse as a CID are written as a link. So
whenever a value holds a byte string that looks like a CID (or a link libipld would not
recognise), the strict codec (plyr.atproto.dagcbor.strict) encodes or decodes it instead.
"""

from __future__ import annotations

from typing import Any

import libipld

from plyr.atproto.dagcbor.cid import CidLink, cid_for_bytes, is_exact_cidv1
from plyr.atproto.dagcbor.datamodel import DataModelError, check_int, json_to_ipld
from plyr.atproto.dagcbor.strict import decode_pure, encode_pure

__all__ = [
    "decode_record",
    "encode_ipld",
    "encode_record",
    "record_cid",
]


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


def encode_ipld(value: Any) -> bytes:
    """DAG-CBOR bytes of a value already in IPLD form (and already validated)."""
    try:
        prepared = _to_libipld(value)
    except _Ambiguous:
        return encode_pure(value)
    return libipld.encode_dag_cbor(prepared)


def encode_record(value: Any) -> bytes:
    """Validate a record (JSON or IPLD form) and return its canonical DAG-CBOR bytes."""
    return encode_ipld(json_to_ipld(value))


def record_cid(value: Any) -> str:
    """The CID (CIDv1, dag-cbor, SHA-256, base32) of a record, as a PDS computes it."""
    return cid_for_bytes(encode_record(value), "dag-cbor")


class _Careful(Exception):
    """libipld's result cannot be trusted as is; decode with the strict codec."""


def _from_libipld(value: Any) -> Any:
    if isinstance(value, bytes):
        if not _libipld_sees_link(value):
            return value
        if not is_exact_cidv1(value):
            raise _Careful  # a CIDv0 link, or a byte string that merely looks like a CID
        return CidLink(value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return check_int(value, "$")
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
    except (ValueError, RecursionError, _Careful):
        # RecursionError: nested deeper than libipld (or the walk above) goes; the strict
        # codec refuses it past MAX_DEPTH with a DataModelError.
        return decode_pure(data)
    # libipld returns links and byte strings alike, and tolerates some non-canonical
    # forms. Re-encoding gives the input back exactly when the data was canonical and
    # every guess above (link or bytes) was right; otherwise the strict codec decides.
    if libipld.encode_dag_cbor(decoded) != data:
        return decode_pure(data)
    return value
