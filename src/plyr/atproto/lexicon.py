"""Lexicon documents and record validation.

plyr keeps the Lexicon (v1) documents of every record it writes in `plyr/lexicons/`
and checks each record against them before it reaches a PDS. `load_lexicons(namespace)`
reads the shipped documents and rewrites the base namespace `fm.plyr` to the configured
one (`Settings.atproto_namespace`, e.g. `fm.plyr.dev`), so development records never
mix with production ones.

Validation follows the Lexicon spec (atproto.com/specs/lexicon). tests/test_lexicon.py
runs its cases through the atproto project's validators too (`@atproto/lexicon` and
`@atproto/lex-schema`, which the PDS runs) and names the reason wherever one of them
answers differently. Choices worth knowing:

* A record must carry `$type` equal to its collection. `validate_record` does not add
  it (it never changes the record); `build_record` returns a copy with `$type` set and
  validated, which is what callers that write records use.
* Values may be in JSON form (`{"$link": ...}`, `{"$bytes": ...}`) or IPLD form
  (`dagcbor.CidLink`, `bytes`), so a record straight out of DAG-CBOR validates too.
* A blob is `{"$type": "blob", "ref": <link>, "mimeType": ..., "size": ...}` with no
  other keys; `accept` (with `type/*` wildcards) and `maxSize` are enforced. The legacy
  `{"cid", "mimeType"}` form is refused: the PDS refuses to write it and no record in
  plyr's namespaces ever held one.
* String formats use `plyr.atproto.syntax`, which holds to the specs where the
  JavaScript validators are loose: datetimes need a timezone (`@atproto/lexicon` takes
  none), URIs are RFC 3986, so ASCII only (both take `café`), AT-URIs have no query or
  fragment, CIDs must decode as CIDv1 (CIDv0 `Qm...` is refused).
* Integers are Python `int`s in the signed 64-bit range; `bool` is not an integer and
  every float is refused, even `1.0` (the data model has no floats, and a PDS rejects
  them; JSON from a JavaScript writer can be normalised by `dagcbor.json_to_ipld`).
* Objects are open: properties a schema does not name are allowed and not checked.
* Open unions accept members of types they do not know (unchecked); every union member
  must carry `$type`.

Some rules do not fit a lexicon; they are plyr-side checks keyed by collection (a track
must have `audioUrl` or `audioBlob`).
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Final

import regex  # type: ignore[import-untyped]  # no stubs; only \X grapheme matching is used

from plyr.atproto import syntax
from plyr.atproto.dagcbor import CidLink

__all__ = [
    "BASE_NAMESPACE",
    "LexiconError",
    "LexiconRegistry",
    "LexiconValidationError",
    "UnknownLexiconError",
    "bundled_documents",
    "grapheme_length",
    "load_lexicons",
    "rewrite_namespace",
]

BASE_NAMESPACE: Final = "fm.plyr"
"""The namespace the shipped documents are written in."""

_INT_MIN: Final = -(1 << 63)
_INT_MAX: Final = (1 << 63) - 1
_GRAPHEME = regex.compile(r"\X")
_DEF_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")

_DATA_TYPES: Final = frozenset(
    {
        "null",
        "boolean",
        "integer",
        "string",
        "bytes",
        "cid-link",
        "blob",
        "array",
        "object",
        "ref",
        "union",
        "unknown",
    }
)
_PRIMARY_TYPES: Final = frozenset(
    {"record", "query", "procedure", "subscription", "permission-set"}
)
_DEF_TYPES: Final = _DATA_TYPES | {"token"} | _PRIMARY_TYPES

_FORMATS: Final[dict[str, tuple[str, Callable[[object], object]]]] = {
    "datetime": ("datetime", syntax.ensure_datetime),
    "uri": ("URI", syntax.ensure_uri),
    "at-uri": ("AT-URI", syntax.ensure_at_uri),
    "did": ("DID", syntax.ensure_did),
    "handle": ("handle", syntax.ensure_handle),
    "at-identifier": ("DID or handle", syntax.ensure_at_identifier),
    "nsid": ("NSID", syntax.ensure_nsid),
    "cid": ("CID", syntax.ensure_cid),
    "language": ("language tag", syntax.ensure_language),
    "tid": ("TID", syntax.ensure_tid),
    "record-key": ("record key", syntax.ensure_record_key),
}

_FieldPath = tuple[str | int, ...]


def _render_path(path: _FieldPath) -> str:
    out = ""
    for segment in path:
        if isinstance(segment, int):
            out += f"[{segment}]"
        else:
            out += f".{segment}" if out else segment
    return out


class LexiconError(Exception):
    """A lexicon document is malformed, or refers to a definition that does not exist."""


class UnknownLexiconError(LexiconError, LookupError):
    """No lexicon (or no record lexicon) for the NSID asked about."""


class LexiconValidationError(ValueError):
    """A record does not match its lexicon.

    `path` locates the offending value (`features[2].did`; empty for the record
    itself) and `reason` says what is wrong with it.
    """

    def __init__(self, collection: str, path: str, reason: str) -> None:
        self.collection = collection
        self.path = path
        self.reason = reason
        where = f"{collection}: {path}" if path else collection
        super().__init__(f"{where}: {reason}")


class _Invalid(Exception):
    """Raised inside the validator; turned into LexiconValidationError at the top."""

    def __init__(self, path: _FieldPath, reason: str) -> None:
        self.path = path
        self.reason = reason


def grapheme_length(text: str) -> int:
    """The number of extended grapheme clusters (user-perceived characters) in `text`."""
    return sum(1 for _ in _GRAPHEME.finditer(text))


# ---------------------------------------------------------------------------------------
# loading and namespace rewriting


def _in_namespace(nsid: str, namespace: str) -> bool:
    return nsid == namespace or nsid.startswith(namespace + ".")


def _rewrite_ref(ref: str, base: str, namespace: str) -> str:
    nsid, hash_, name = ref.partition("#")
    if nsid and _in_namespace(nsid, base):
        return namespace + nsid[len(base) :] + hash_ + name
    return ref


def rewrite_namespace(
    document: Mapping[str, Any], namespace: str, base: str = BASE_NAMESPACE
) -> dict[str, Any]:
    """A copy of `document` with `base` (`fm.plyr`) replaced by `namespace` in its id and
    in every reference (`ref`, `refs`, and token names in `knownValues`).

    Only whole leading NSID segments match: `fm.plyr.track` becomes
    `fm.plyr.dev.track`, while `fm.plyrx.track` or `com.atproto.repo.strongRef` stay.
    """
    if namespace == base:
        return copy.deepcopy(dict(document))

    def walk(node: Any, key: str | None) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, k) for k, v in node.items()}
        if isinstance(node, list):
            if key in ("refs", "knownValues"):
                return [
                    _rewrite_ref(item, base, namespace) if isinstance(item, str) else item
                    for item in node
                ]
            return [walk(item, None) for item in node]
        if isinstance(node, str) and key in ("id", "ref"):
            return _rewrite_ref(node, base, namespace)
        return node

    rewritten: dict[str, Any] = walk(dict(document), None)
    return rewritten


def _iter_json_files(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    """(NSID the file's place implies, file) for every JSON file under `folder`."""
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            yield from _iter_json_files(entry, f"{prefix}{entry.name}.")
        elif entry.name.endswith(".json"):
            yield prefix + entry.name.removesuffix(".json"), entry


def bundled_documents() -> list[dict[str, Any]]:
    """The lexicon documents shipped in `plyr.lexicons`, as written (base namespace).

    A file's place must match its id: `fm/plyr/track.json` holds `fm.plyr.track`.
    """
    documents: list[dict[str, Any]] = []
    for nsid, entry in _iter_json_files(resources.files("plyr.lexicons")):
        document = json.loads(entry.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or document.get("id") != nsid:
            raise LexiconError(f"{entry.name}: expected a lexicon document with id {nsid!r}")
        documents.append(document)
    return documents


def load_lexicons(namespace: str = BASE_NAMESPACE) -> LexiconRegistry:
    """The shipped lexicons with plyr's records moved to `namespace` (cached per namespace).

    >>> load_lexicons("fm.plyr.dev").collection("track")
    'fm.plyr.dev.track'
    """
    return _load_lexicons(namespace)


@cache
def _load_lexicons(namespace: str) -> LexiconRegistry:
    documents = [rewrite_namespace(doc, namespace) for doc in bundled_documents()]
    return LexiconRegistry(documents, namespace=namespace)


# ---------------------------------------------------------------------------------------
# extra checks lexicons cannot express


def _track_has_audio(record: Mapping[str, Any]) -> tuple[_FieldPath, str] | None:
    if record.get("audioUrl") is None and record.get("audioBlob") is None:
        return ("audioUrl",), "a track needs audioUrl or audioBlob (or both)"
    return None


_EXTRA_CHECKS: Final[dict[str, Callable[[Mapping[str, Any]], tuple[_FieldPath, str] | None]]] = {
    "track": _track_has_audio,
}
"""Checks beyond the lexicon, by collection name relative to plyr's namespace."""


# ---------------------------------------------------------------------------------------
# the registry


def _full_ref(ref: str, doc_id: str) -> str:
    """`#name` -> `<doc>#name`; `nsid` -> `nsid#main`; `nsid#name` stays."""
    if ref.startswith("#"):
        return doc_id + ref
    if "#" not in ref:
        return ref + "#main"
    return ref


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


class LexiconRegistry:
    """A set of lexicon documents, checked when loaded, that validates records.

    `namespace` is where plyr's own collections live (`collection("track")`); documents
    of other authorities (`com.atproto.*`, `fm.teal.*`) are used as they are.
    """

    def __init__(
        self, documents: Iterable[Mapping[str, Any]], *, namespace: str = BASE_NAMESPACE
    ) -> None:
        self._namespace = namespace
        self._documents: dict[str, dict[str, Any]] = {}
        self._defs: dict[str, dict[str, Any]] = {}
        for document in documents:
            self._add(copy.deepcopy(dict(document)))
        for doc_id, document in self._documents.items():
            for name, definition in document["defs"].items():
                self._check_def(definition, doc_id, f"{doc_id}#{name}", top=True)
        self._extra_checks = {
            f"{namespace}.{name}": check
            for name, check in _EXTRA_CHECKS.items()
            if f"{namespace}.{name}#main" in self._defs
        }

    # -- loading -------------------------------------------------------------------------

    def _add(self, document: dict[str, Any]) -> None:
        doc_id = document.get("id")
        if document.get("lexicon") != 1:
            raise LexiconError(f"{doc_id}: only lexicon version 1 is supported")
        if not syntax.is_valid_nsid(doc_id):
            raise LexiconError(f"{doc_id!r}: the id of a lexicon must be an NSID")
        assert isinstance(doc_id, str)
        if doc_id in self._documents:
            raise LexiconError(f"{doc_id}: defined twice")
        defs = document.get("defs")
        if not isinstance(defs, dict) or not defs:
            raise LexiconError(f"{doc_id}: defs must be a non-empty object")
        for name, definition in defs.items():
            if not isinstance(name, str) or not _DEF_NAME.fullmatch(name):
                raise LexiconError(f"{doc_id}: bad definition name {name!r}")
            if not isinstance(definition, dict):
                raise LexiconError(f"{doc_id}#{name}: a definition is an object")
            if definition.get("type") in _PRIMARY_TYPES and name != "main":
                raise LexiconError(f"{doc_id}#{name}: a {definition['type']} must be main")
            self._defs[f"{doc_id}#{name}"] = definition
        self._documents[doc_id] = document

    def _check_def(self, definition: Any, doc_id: str, where: str, *, top: bool = False) -> None:
        """Structural checks so that a typo fails at load time, not at validation time."""
        if not isinstance(definition, dict):
            raise LexiconError(f"{where}: a type definition is an object")
        kind = definition.get("type")
        if kind not in (_DEF_TYPES if top else _DATA_TYPES):
            raise LexiconError(f"{where}: unknown or misplaced type {kind!r}")
        if kind == "record":
            key = definition.get("key")
            if not isinstance(key, str) or not (
                key in ("tid", "any", "nsid")
                or (key.startswith("literal:") and syntax.is_valid_record_key(key[8:]))
            ):
                raise LexiconError(f"{where}: bad record key type {key!r}")
            record = definition.get("record")
            if not isinstance(record, dict) or record.get("type") != "object":
                raise LexiconError(f"{where}: a record's schema is an object")
            self._check_def(record, doc_id, f"{where}.record")
        elif kind == "object":
            properties = definition.get("properties", {})
            if not isinstance(properties, dict):
                raise LexiconError(f"{where}: properties must be an object")
            for field in ("required", "nullable"):
                names = definition.get(field, [])
                if not isinstance(names, list) or not all(n in properties for n in names):
                    raise LexiconError(f"{where}: {field} names a property that is not defined")
            for name, schema in properties.items():
                self._check_def(schema, doc_id, f"{where}.{name}")
        elif kind == "array":
            self._check_def(definition.get("items"), doc_id, f"{where}[]")
        elif kind == "string":
            fmt = definition.get("format")
            if fmt is not None and fmt not in _FORMATS:
                raise LexiconError(f"{where}: unknown string format {fmt!r}")
        elif kind == "ref":
            self._resolve(definition.get("ref"), doc_id, where)
        elif kind == "union":
            refs = definition.get("refs")
            if not isinstance(refs, list):
                raise LexiconError(f"{where}: a union needs refs")
            for ref in refs:
                target = self._resolve(ref, doc_id, where)
                if target.get("type") not in ("object", "record"):
                    raise LexiconError(f"{where}: union member {ref} is not an object")

    def _resolve(self, ref: object, doc_id: str, where: object) -> dict[str, Any]:
        if not isinstance(ref, str) or not ref:
            raise LexiconError(f"{where}: a reference must be a non-empty string")
        target = self._defs.get(_full_ref(ref, doc_id))
        if target is None:
            raise LexiconError(f"{where}: reference {ref!r} names no definition")
        if target.get("type") not in _DATA_TYPES | {"record"}:
            raise LexiconError(f"{where}: reference {ref!r} is not a data type")
        return target

    # -- lookups -------------------------------------------------------------------------

    @property
    def namespace(self) -> str:
        """Where plyr's own collections live: `fm.plyr`, `fm.plyr.dev`, ..."""
        return self._namespace

    def collection(self, name: str) -> str:
        """The NSID of one of plyr's collections: `collection("track")` -> `fm.plyr.track`."""
        nsid = f"{self.namespace}.{name}"
        self._record_def(nsid)
        return nsid

    @property
    def collections(self) -> tuple[str, ...]:
        """NSIDs of every record type in the registry (plyr's and others)."""
        return tuple(
            doc_id
            for doc_id, document in self._documents.items()
            if document["defs"].get("main", {}).get("type") == "record"
        )

    def __contains__(self, nsid: object) -> bool:
        return isinstance(nsid, str) and nsid in self._documents

    def document(self, nsid: str) -> dict[str, Any]:
        """A copy of the (rewritten) document with this id."""
        try:
            return copy.deepcopy(self._documents[nsid])
        except KeyError:
            raise UnknownLexiconError(f"no lexicon {nsid!r}") from None

    def documents(self) -> list[dict[str, Any]]:
        """Copies of every document, e.g. to publish them or to hand to another validator."""
        return [copy.deepcopy(document) for document in self._documents.values()]

    def _record_def(self, collection: str) -> dict[str, Any]:
        definition = self._defs.get(f"{collection}#main")
        if definition is None or definition.get("type") != "record":
            raise UnknownLexiconError(f"no record lexicon for {collection!r}")
        return definition

    def record_key_type(self, collection: str) -> str:
        """`tid`, `any`, `nsid` or `literal:<value>`, as the collection's lexicon says."""
        key: str = self._record_def(collection)["key"]
        return key

    # -- validation ----------------------------------------------------------------------

    def check_record_key(self, collection: str, rkey: str) -> None:
        """Raise LexiconValidationError (path `rkey`) unless `rkey` suits the collection."""
        key_type = self.record_key_type(collection)
        problem: str | None = None
        if not syntax.is_valid_record_key(rkey):
            problem = "is not a valid record key"
        elif key_type == "tid" and not syntax.is_valid_tid(rkey):
            problem = "must be a TID"
        elif key_type == "nsid" and not syntax.is_valid_nsid(rkey):
            problem = "must be an NSID"
        elif key_type.startswith("literal:") and rkey != key_type[8:]:
            problem = f"must be {key_type[8:]!r}"
        if problem is not None:
            raise LexiconValidationError(collection, "rkey", f"{rkey!r} {problem}")

    def validate_record(self, collection: str, record: object) -> None:
        """Raise LexiconValidationError unless `record` is a valid record of `collection`.

        The record must carry `"$type": collection`. Unknown collections raise
        UnknownLexiconError. Nothing is changed; see `build_record` to add `$type`.
        """
        definition = self._record_def(collection)
        try:
            if not isinstance(record, dict):
                raise _Invalid((), f"a record must be an object, got {_type_name(record)}")
            record_type = record.get("$type")
            if record_type is None:
                raise _Invalid(("$type",), f"is required (it must be {collection!r})")
            if record_type != collection:
                raise _Invalid(("$type",), f"must be {collection!r}, got {record_type!r}")
            self._check(record, definition["record"], collection, ())
            extra = self._extra_checks.get(collection)
            if extra is not None:
                problem = extra(record)
                if problem is not None:
                    raise _Invalid(*problem)
        except _Invalid as invalid:
            raise LexiconValidationError(
                collection, _render_path(invalid.path), invalid.reason
            ) from None

    def build_record(self, collection: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """`{"$type": collection, **fields}`, validated: what plyr hands to a PDS."""
        record = {"$type": collection, **{k: v for k, v in fields.items() if k != "$type"}}
        if "$type" in fields and fields["$type"] != collection:
            raise LexiconValidationError(
                collection, "$type", f"must be {collection!r}, got {fields['$type']!r}"
            )
        self.validate_record(collection, record)
        return record

    def is_valid_record(self, collection: str, record: object) -> bool:
        try:
            self.validate_record(collection, record)
        except LexiconValidationError:
            return False
        return True

    # -- the checks, one per lexicon type ------------------------------------------------

    def _check(self, value: object, schema: dict[str, Any], doc_id: str, path: _FieldPath) -> None:
        kind = schema["type"]
        if kind == "ref":
            ref = _full_ref(schema["ref"], doc_id)
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
        else:  # pragma: no cover - _check_def refuses other types at load time
            raise _Invalid(path, f"cannot validate lexicon type {kind!r}")

    def _check_target(
        self, value: object, target: dict[str, Any], doc_id: str, path: _FieldPath
    ) -> None:
        if target["type"] == "record":
            target = target["record"]
        self._check(value, target, doc_id, path)

    def _check_union(
        self, value: object, schema: dict[str, Any], doc_id: str, path: _FieldPath
    ) -> None:
        if not isinstance(value, dict):
            raise _Invalid(path, f"must be an object, got {_type_name(value)}")
        member_type = value.get("$type")
        if not isinstance(member_type, str) or not member_type:
            raise _Invalid((*path, "$type"), "is required (a union member names its type)")
        wanted = _full_ref(member_type, "")
        refs = [_full_ref(ref, doc_id) for ref in schema["refs"]]
        if member_type.startswith("#") or wanted not in refs:
            if schema.get("closed", False):
                names = ", ".join(ref.removesuffix("#main") for ref in refs)
                raise _Invalid((*path, "$type"), f"must be one of {names}, got {member_type!r}")
            return  # an open union accepts types it does not know, unchecked
        self._check_target(value, self._defs[wanted], wanted.partition("#")[0], path)

    def _check_object(
        self, value: object, schema: dict[str, Any], doc_id: str, path: _FieldPath
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
        self, value: object, schema: dict[str, Any], doc_id: str, path: _FieldPath
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

    def _check_string(self, value: object, schema: dict[str, Any], path: _FieldPath) -> None:
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
            label, ensure = _FORMATS[fmt]
            try:
                ensure(value)
            except syntax.InvalidSyntax as exc:
                raise _Invalid(path, f"must be a valid {label}: {exc.reason}") from None
            if fmt == "cid":
                self._check_cid_decodes(value, path)

    @staticmethod
    def _check_cid_decodes(value: str, path: _FieldPath) -> None:
        try:
            CidLink.from_str(value)
        except ValueError:
            raise _Invalid(path, "must be a valid CID: it does not decode as a CIDv1") from None

    def _check_integer(self, value: object, schema: dict[str, Any], path: _FieldPath) -> None:
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

    def _check_link(self, value: object, path: _FieldPath) -> None:
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

    def _check_blob(self, value: object, schema: dict[str, Any], path: _FieldPath) -> None:
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

    def _check_bytes(self, value: object, schema: dict[str, Any], path: _FieldPath) -> None:
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
