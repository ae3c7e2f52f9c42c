"""Checking a record against its lexicon: one check per lexicon type, with the path.

`RecordValidator` walks a record through the definitions and reports the first problem
as a LexiconValidationError naming where it is (`features[2].did`) and why.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import regex  # type: ignore[import-untyped]  # no stubs; only \X grapheme matching is used

from plyr.atproto import syntax
from plyr.atproto.dagcbor import CidLink
from plyr.atproto.lexicon.errors import LexiconValidationError
from plyr.atproto.lexicon.schema import STRING_FORMATS, full_ref

__all__ = [
    "ExtraCheck",
    "FieldPath",
    "RecordValidator",
    "grapheme_length",
]

_INT_MIN: Final = -(1 << 63)
_INT_MAX: Final = (1 << 63) - 1
_GRAPHEME = regex.compile(r"\X")

FieldPath = tuple[str | int, ...]
"""Where a value sits in a record: keys and list indexes, outermost first."""

ExtraCheck = Callable[[Mapping[str, Any]], tuple[FieldPath, str] | None]
"""A plyr-side check of a whole record: (where, why) when it fails, else None."""


def _render_path(path: FieldPath) -> str:
    out = ""
    for segment in path:
        if isinstance(segment, int):
            out += f"[{segment}]"
        else:
            out += f".{segment}" if out else segment
    return out


class _Invalid(Exception):
    """Raised inside the validator; turned into LexiconValidationError at the top."""

    def __init__(self, path: FieldPath, reason: str) -> None:
        self.path = path
        self.reason = reason


def grapheme_length(text: str) -> int:
    """The number of extended grapheme clusters (user-perceived characters) in `text`."""
    return sum(1 for _ in _GRAPHEME.finditer(text))


def grapheme_prefix(text: str, limit: int) -> str:
    """The first `limit` grapheme clusters of `text` (never half a character)."""
    clusters: list[str] = _GRAPHEME.findall(text, endpos=len(text))[:limit]
    return "".join(clusters)


def _mime_accepted(mime_type: str, accept: Iterable[str]) -> bool:
    mime_type = mime_type.lower()
    for pattern in accept:
        pattern = pattern.lower()
        if pattern in ("*/*", mime_type):
            return True
        if pattern.endswith("/*") and mime_type.startswith(pattern[:-1]):
            return True
    return False


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class RecordValidator:
    """Checks records, and the values in them, against a set of lexicon definitions.

    `defs` maps `<nsid>#<name>` to each definition. The registry checked the definitions
    when it loaded them, so every type and reference met here is known.
    """

    def __init__(self, defs: Mapping[str, dict[str, Any]]) -> None:
        self._defs = defs

    def validate_record(
        self,
        collection: str,
        definition: dict[str, Any],
        record: object,
        extra: ExtraCheck | None = None,
    ) -> None:
        """Raise LexiconValidationError unless `record` matches the record `definition`.

        The record must carry `"$type": collection`. `extra`, the plyr-side check of the
        collection, runs once the lexicon's checks pass.
        """
        try:
            if not isinstance(record, dict):
                raise _Invalid((), f"a record must be an object, got {_type_name(record)}")
            record_type = record.get("$type")
            if record_type is None:
                raise _Invalid(("$type",), f"is required (it must be {collection!r})")
            if record_type != collection:
                raise _Invalid(("$type",), f"must be {collection!r}, got {record_type!r}")
            self._check(record, definition["record"], collection, ())
            if extra is not None:
                problem = extra(record)
                if problem is not None:
                    raise _Invalid(*problem)
        except _Invalid as invalid:
            raise LexiconValidationError(
                collection, _render_path(invalid.path), invalid.reason
            ) from None

    # -- the checks, one per lexicon type ------------------------------------------------

    def _check(self, value: object, schema: dict[str, Any], doc_id: str, path: FieldPath) -> None:
        kind = schema["type"]
        if kind == "ref":
            ref = full_ref(schema["ref"], doc_id)
            self._check_target(value, self._defs[ref], ref.partition("#")[0], path)
        elif kind == "union":
            self._check_union(value, schema, doc_id, path)
        elif kind == "object":
            self._check_object(value, schema, doc_id, path)
        elif kind == "array":
            self._check_array(value, schema, doc_id, path)
        elif kind == "string":
            self._check_string(value, schema, path)
        elif kind == "integer":
            self._check_integer(value, schema, path)
        elif kind == "boolean":
            if not isinstance(value, bool):
                raise _Invalid(path, f"must be a boolean, got {_type_name(value)}")
            if "const" in schema and value != schema["const"]:
                raise _Invalid(path, f"must be {str(schema['const']).lower()}")
        elif kind == "null":
            if value is not None:
                raise _Invalid(path, f"must be null, got {_type_name(value)}")
        elif kind == "blob":
            self._check_blob(value, schema, path)
        elif kind == "cid-link":
            self._check_link(value, path)
        elif kind == "bytes":
            self._check_bytes(value, schema, path)
        elif kind == "unknown":
            if not isinstance(value, dict):
                raise _Invalid(path, f"must be an object, got {_type_name(value)}")
        else:  # pragma: no cover - LexiconRegistry._check_def refuses other types at load
            raise _Invalid(path, f"cannot validate lexicon type {kind!r}")

    def _check_target(
        self, value: object, target: dict[str, Any], doc_id: str, path: FieldPath
    ) -> None:
        if target["type"] == "record":
            target = target["record"]
        self._check(value, target, doc_id, path)

    def _check_union(
        self, value: object, schema: dict[str, Any], doc_id: str, path: FieldPath
    ) -> None:
        if not isinstance(value, dict):
            raise _Invalid(path, f"must be an object, got {_type_name(value)}")
        member_type = value.get("$type")
        if not isinstance(member_type, str) or not member_type:
            raise _Invalid((*path, "$type"), "is required (a union member names its type)")
        wanted = full_ref(member_type, "")
        refs = [full_ref(ref, doc_id) for ref in schema["refs"]]
        if member_type.startswith("#") or wanted not in refs:
            if schema.get("closed", False):
                names = ", ".join(ref.removesuffix("#main") for ref in refs)
                raise _Invalid((*path, "$type"), f"must be one of {names}, got {member_type!r}")
            return  # an open union accepts types it does not know, unchecked
        self._check_target(value, self._defs[wanted], wanted.partition("#")[0], path)

    def _check_object(
        self, value: object, schema: dict[str, Any], doc_id: str, path: FieldPath
    ) -> None:
        if not isinstance(value, dict):
            raise _Invalid(path, f"must be an object, got {_type_name(value)}")
        required = schema.get("required", ())
        nullable = schema.get("nullable", ())
        for name, property_schema in schema.get("properties", {}).items():
            if name not in value:
                if name in required and "default" not in property_schema:
                    raise _Invalid((*path, name), "is required")
                continue
            item = value[name]
            if item is None:
                if name in nullable:
                    continue
                raise _Invalid((*path, name), "must not be null")
            self._check(item, property_schema, doc_id, (*path, name))

    def _check_array(
        self, value: object, schema: dict[str, Any], doc_id: str, path: FieldPath
    ) -> None:
        if not isinstance(value, list):
            raise _Invalid(path, f"must be an array, got {_type_name(value)}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise _Invalid(path, f"must have at most {schema['maxLength']} items, got {len(value)}")
        if "minLength" in schema and len(value) < schema["minLength"]:
            raise _Invalid(
                path, f"must have at least {schema['minLength']} items, got {len(value)}"
            )
        items = schema["items"]
        for index, item in enumerate(value):
            self._check(item, items, doc_id, (*path, index))

    def _check_string(self, value: object, schema: dict[str, Any], path: FieldPath) -> None:
        if not isinstance(value, str):
            raise _Invalid(path, f"must be a string, got {_type_name(value)}")
        try:
            size = len(value.encode("utf-8"))
        except UnicodeEncodeError:
            raise _Invalid(path, "must be valid Unicode (it holds a lone surrogate)") from None
        if "const" in schema and value != schema["const"]:
            raise _Invalid(path, f"must be {schema['const']!r}")
        if "enum" in schema and value not in schema["enum"]:
            raise _Invalid(path, f"must be one of {', '.join(map(repr, schema['enum']))}")
        if "maxLength" in schema and size > schema["maxLength"]:
            raise _Invalid(
                path, f"must be at most {schema['maxLength']} bytes long (UTF-8), got {size}"
            )
        if "minLength" in schema and size < schema["minLength"]:
            if schema["minLength"] == 1:
                raise _Invalid(path, "must not be empty")
            raise _Invalid(
                path, f"must be at least {schema['minLength']} bytes long (UTF-8), got {size}"
            )
        max_graphemes = schema.get("maxGraphemes")
        min_graphemes = schema.get("minGraphemes")
        # A string never has more graphemes than code points: count only when it matters.
        if (max_graphemes is not None and len(value) > max_graphemes) or (
            min_graphemes is not None
        ):
            graphemes = grapheme_length(value)
            if max_graphemes is not None and graphemes > max_graphemes:
                raise _Invalid(
                    path, f"must be at most {max_graphemes} characters (graphemes), got {graphemes}"
                )
            if min_graphemes is not None and graphemes < min_graphemes:
                raise _Invalid(
                    path,
                    f"must be at least {min_graphemes} characters (graphemes), got {graphemes}",
                )
        fmt = schema.get("format")
        if fmt is not None:
            label, ensure = STRING_FORMATS[fmt]
            try:
                ensure(value)
            except syntax.InvalidSyntax as exc:
                raise _Invalid(path, f"must be a valid {label}: {exc.reason}") from None
            if fmt == "cid":
                self._check_cid_decodes(value, path)

    @staticmethod
    def _check_cid_decodes(value: str, path: FieldPath) -> None:
        try:
            CidLink.from_str(value)
        except ValueError:
            raise _Invalid(path, "must be a valid CID: it does not decode as a CIDv1") from None

    def _check_integer(self, value: object, schema: dict[str, Any], path: FieldPath) -> None:
        if isinstance(value, float):
            raise _Invalid(path, f"must be an integer; floats are not allowed (got {value!r})")
        if not isinstance(value, int) or isinstance(value, bool):
            raise _Invalid(path, f"must be an integer, got {_type_name(value)}")
        if not _INT_MIN <= value <= _INT_MAX:
            raise _Invalid(path, "must fit in a signed 64-bit integer")
        if "const" in schema and value != schema["const"]:
            raise _Invalid(path, f"must be {schema['const']}")
        if "enum" in schema and value not in schema["enum"]:
            raise _Invalid(path, f"must be one of {', '.join(map(str, schema['enum']))}")
        if "maximum" in schema and value > schema["maximum"]:
            raise _Invalid(path, f"must be at most {schema['maximum']}, got {value}")
        if "minimum" in schema and value < schema["minimum"]:
            raise _Invalid(path, f"must be at least {schema['minimum']}, got {value}")

    def _check_link(self, value: object, path: FieldPath) -> None:
        if isinstance(value, CidLink):
            return
        if not isinstance(value, dict) or set(value) != {"$link"}:
            raise _Invalid(path, 'must be a CID link: {"$link": "<cid>"}')
        link = value["$link"]
        if not isinstance(link, str):
            raise _Invalid((*path, "$link"), "must be a CID string")
        try:
            CidLink.from_str(link)
        except ValueError:
            raise _Invalid((*path, "$link"), "does not decode as a CIDv1") from None

    def _check_blob(self, value: object, schema: dict[str, Any], path: FieldPath) -> None:
        shape = 'must be a blob: {"$type": "blob", "ref": {"$link": ...}, "mimeType", "size"}'
        if not isinstance(value, dict):
            raise _Invalid(path, f"{shape}, got {_type_name(value)}")
        if "$type" not in value and set(value) == {"cid", "mimeType"}:
            raise _Invalid(path, "legacy blob references ({cid, mimeType}) are not accepted")
        if value.get("$type") != "blob" or set(value) != {"$type", "ref", "mimeType", "size"}:
            raise _Invalid(path, shape)
        self._check_link(value["ref"], (*path, "ref"))
        mime_type = value["mimeType"]
        if not isinstance(mime_type, str) or not mime_type:
            raise _Invalid((*path, "mimeType"), "must be a non-empty string")
        size = value["size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise _Invalid((*path, "size"), "must be a non-negative integer")
        accept = schema.get("accept")
        if accept is not None and not _mime_accepted(mime_type, accept):
            raise _Invalid(
                (*path, "mimeType"), f"{mime_type!r} is not accepted (only {', '.join(accept)})"
            )
        max_size = schema.get("maxSize")
        if max_size is not None and size > max_size:
            raise _Invalid((*path, "size"), f"must be at most {max_size} bytes, got {size}")

    def _check_bytes(self, value: object, schema: dict[str, Any], path: FieldPath) -> None:
        if isinstance(value, dict) and set(value) == {"$bytes"}:
            text = value["$bytes"]
            if not isinstance(text, str):
                raise _Invalid((*path, "$bytes"), "must be a base64 string")
            data = _decode_base64(text)
            if data is None:
                raise _Invalid((*path, "$bytes"), "is not valid base64")
        elif isinstance(value, bytes):
            data = value
        else:
            raise _Invalid(path, 'must be bytes: {"$bytes": "<base64>"}')
        if "maxLength" in schema and len(data) > schema["maxLength"]:
            raise _Invalid(path, f"must be at most {schema['maxLength']} bytes, got {len(data)}")
        if "minLength" in schema and len(data) < schema["minLength"]:
            raise _Invalid(path, f"must be at least {schema['minLength']} bytes, got {len(data)}")


def _decode_base64(text: str) -> bytes | None:
    """Standard base64 (RFC 4648 section 4); the padding is optional, as the spec allows."""
    if len(text) % 4 == 1:
        return None
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
