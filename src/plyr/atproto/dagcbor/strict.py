"""The small strict DAG-CBOR codec, in pure Python.

It is used where libipld cannot be trusted to tell a link from a byte string (see
plyr.atproto.dagcbor.codec); it agrees with libipld byte for byte on everything else
(the tests check it). Decoding refuses every non-canonical form.
"""

from __future__ import annotations

from typing import Any

from plyr.atproto.dagcbor.cid import CidLink
from plyr.atproto.dagcbor.datamodel import MAX_DEPTH, DataModelError, check_int

__all__ = [
    "decode_pure",
    "encode_pure",
]

_CID_TAG = 42


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


def encode_pure(value: Any) -> bytes:
    """DAG-CBOR bytes of a value in IPLD form (links as `CidLink`, byte strings as `bytes`)."""
    out = bytearray()
    _encode_value(value, out)
    return bytes(out)


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
        return check_int(argument, "$")
    if major == 1:
        return check_int(-1 - argument, "$")
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


def decode_pure(data: bytes) -> Any:
    """Canonical DAG-CBOR bytes to a value in IPLD form; DataModelError otherwise."""
    reader = _Reader(data)
    value = _decode_value(reader, 0)
    if reader.pos != len(data):
        raise DataModelError("$", "trailing bytes after the DAG-CBOR value")
    return value
