"""What a lexicon document may hold: its type names, string formats and references.

Shared by the registry, which checks documents against it when they load, and by the
validator, which walks records through them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from plyr.atproto import syntax

__all__ = [
    "DATA_TYPES",
    "DEF_NAME",
    "DEF_TYPES",
    "PRIMARY_TYPES",
    "STRING_FORMATS",
    "full_ref",
]

DEF_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
"""The name of a definition inside a document (`main`, `artist`, ...)."""

DATA_TYPES: Final = frozenset(
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
PRIMARY_TYPES: Final = frozenset({"record", "query", "procedure", "subscription", "permission-set"})
DEF_TYPES: Final = DATA_TYPES | {"token"} | PRIMARY_TYPES
"""Every type a document's top-level definition may have; nested ones are DATA_TYPES."""

# format name -> (what error messages call it, the check, raising InvalidSyntax)
STRING_FORMATS: Final[dict[str, tuple[str, Callable[[object], object]]]] = {
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


def full_ref(ref: str, doc_id: str) -> str:
    """`#name` -> `<doc>#name`; `nsid` -> `nsid#main`; `nsid#name` stays."""
    if ref.startswith("#"):
        return doc_id + ref
    if "#" not in ref:
        return ref + "#main"
    return ref
