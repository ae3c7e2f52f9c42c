"""`LexiconRegistry`: lexicon documents, checked when they load, that validate records.

The registry also holds plyr's own rules that no lexicon can express (a track needs
`audioUrl` or `audioBlob`), keyed by collection.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any, Final

from plyr.atproto import syntax
from plyr.atproto.lexicon.errors import (
    LexiconError,
    LexiconValidationError,
    UnknownLexiconError,
)
from plyr.atproto.lexicon.namespace import BASE_NAMESPACE
from plyr.atproto.lexicon.permissions import check_permission_set
from plyr.atproto.lexicon.schema import (
    DATA_TYPES,
    DEF_NAME,
    DEF_TYPES,
    PRIMARY_TYPES,
    STRING_FORMATS,
    full_ref,
)
from plyr.atproto.lexicon.validation import ExtraCheck, FieldPath, RecordValidator

__all__ = [
    "LexiconRegistry",
]

# ---------------------------------------------------------------------------------------
# extra checks lexicons cannot express


def _track_has_audio(record: Mapping[str, Any]) -> tuple[FieldPath, str] | None:
    if record.get("audioUrl") is None and record.get("audioBlob") is None:
        return ("audioUrl",), "a track needs audioUrl or audioBlob (or both)"
    return None


_EXTRA_CHECKS: Final[dict[str, ExtraCheck]] = {
    "track": _track_has_audio,
}
"""Checks beyond the lexicon, by collection name relative to plyr's namespace."""


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
        self._validator = RecordValidator(self._defs)

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
            if not isinstance(name, str) or not DEF_NAME.fullmatch(name):
                raise LexiconError(f"{doc_id}: bad definition name {name!r}")
            if not isinstance(definition, dict):
                raise LexiconError(f"{doc_id}#{name}: a definition is an object")
            if definition.get("type") in PRIMARY_TYPES and name != "main":
                raise LexiconError(f"{doc_id}#{name}: a {definition['type']} must be main")
            self._defs[f"{doc_id}#{name}"] = definition
        self._documents[doc_id] = document

    def _check_def(self, definition: Any, doc_id: str, where: str, *, top: bool = False) -> None:
        """Structural checks so that a typo fails at load time, not at validation time."""
        if not isinstance(definition, dict):
            raise LexiconError(f"{where}: a type definition is an object")
        kind = definition.get("type")
        if kind not in (DEF_TYPES if top else DATA_TYPES):
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
        elif kind == "permission-set":
            check_permission_set(definition, doc_id, where)
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
            if fmt is not None and fmt not in STRING_FORMATS:
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
        target = self._defs.get(full_ref(ref, doc_id))
        if target is None:
            raise LexiconError(f"{where}: reference {ref!r} names no definition")
        if target.get("type") not in DATA_TYPES | {"record"}:
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

    def permission_set(self, nsid: str) -> list[dict[str, Any]]:
        """Copies of the permissions a permission set grants (checked when it loaded)."""
        definition = self._defs.get(f"{nsid}#main")
        if definition is None or definition.get("type") != "permission-set":
            raise UnknownLexiconError(f"no permission set {nsid!r}")
        permissions: list[dict[str, Any]] = copy.deepcopy(definition["permissions"])
        return permissions

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
        self._validator.validate_record(
            collection, definition, record, self._extra_checks.get(collection)
        )

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
