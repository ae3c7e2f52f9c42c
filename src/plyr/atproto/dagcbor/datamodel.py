"""The data model's JSON form and IPLD form, and the checks converting between them.

`json_to_ipld` is where bad data is refused (floats, malformed links, blobs or `$type`s);
`ipld_to_json` converts back.
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any

from plyr.atproto.dagcbor.cid import CidLink

__all__ = [
    "MAX_DEPTH",
    "DataModelError",
    "check_int",
    "ipld_to_json",
    "json_to_ipld",
]

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


_BLOB_KEYS = frozenset({"$type", "ref", "mimeType", "size"})


def _b64decode(text: str, path: str) -> bytes:
    if len(text) % 4 == 1:
        raise DataModelError(path, "$bytes is not valid base64")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DataModelError(path, "$bytes is not valid base64") from exc


def check_int(value: int, path: str) -> int:
    """`value`, unless it falls outside the signed 64-bit range the data model allows."""
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
        return check_int(value, path)
    if isinstance(value, float):
        # JSON cannot tell 123 from 123.0 (JavaScript writes both alike), so an
        # integral float is taken as the integer; any other float is refused.
        if math.isfinite(value) and value.is_integer():
            return check_int(int(value), path)
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
