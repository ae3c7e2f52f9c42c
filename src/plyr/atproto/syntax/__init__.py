"""Strict syntax of the AT Protocol's identifiers and string formats.

Every format has `is_valid_<kind>(value) -> bool` and `ensure_<kind>(value) -> str`;
`ensure_*` raises `InvalidSyntax` naming what is wrong. Validators accept any object so
they can check values straight out of decoded JSON (a non-string is simply invalid).

The rules follow the atproto specifications (atproto.com/specs) and are checked against
the protocol's interop test files (tests/fixtures/interop/syntax). Where a format has a
"strict" and a "loose" reading, the one here is the strict one plyr writes and accepts:
AT-URIs have no query or fragment, datetimes need a timezone, handles are ASCII.

One module per identifier family: `handle`, `did`, `nsid`, `recordkey` (record keys and
TIDs), `aturi` (AT-URIs and at-identifiers), `datetimes`, `cid`, `language` and `uri`;
`errors` holds InvalidSyntax. This package re-exports their public names.
"""

from __future__ import annotations

from plyr.atproto.syntax.aturi import (
    AtUri,
    ensure_at_identifier,
    ensure_at_uri,
    is_valid_at_identifier,
    is_valid_at_uri,
    parse_at_uri,
)
from plyr.atproto.syntax.cid import ensure_cid, is_valid_cid
from plyr.atproto.syntax.datetimes import (
    ensure_datetime,
    format_datetime,
    is_valid_datetime,
    parse_datetime,
)
from plyr.atproto.syntax.did import (
    Did,
    did_web_host,
    ensure_did,
    ensure_did_plc,
    ensure_did_web,
    is_valid_did,
    is_valid_did_plc,
    is_valid_did_web,
    parse_did,
)
from plyr.atproto.syntax.errors import InvalidSyntax
from plyr.atproto.syntax.handle import (
    DISALLOWED_TLDS,
    INVALID_HANDLE,
    ensure_handle,
    is_disallowed_tld,
    is_valid_handle,
)
from plyr.atproto.syntax.language import ensure_language, is_valid_language
from plyr.atproto.syntax.nsid import Nsid, ensure_nsid, is_valid_nsid, parse_nsid
from plyr.atproto.syntax.recordkey import (
    TID_ALPHABET,
    ensure_record_key,
    ensure_tid,
    is_valid_record_key,
    is_valid_tid,
)
from plyr.atproto.syntax.uri import ensure_uri, is_valid_uri

__all__ = [
    "DISALLOWED_TLDS",
    "INVALID_HANDLE",
    "TID_ALPHABET",
    "AtUri",
    "Did",
    "InvalidSyntax",
    "Nsid",
    "did_web_host",
    "ensure_at_identifier",
    "ensure_at_uri",
    "ensure_cid",
    "ensure_datetime",
    "ensure_did",
    "ensure_did_plc",
    "ensure_did_web",
    "ensure_handle",
    "ensure_language",
    "ensure_nsid",
    "ensure_record_key",
    "ensure_tid",
    "ensure_uri",
    "format_datetime",
    "is_disallowed_tld",
    "is_valid_at_identifier",
    "is_valid_at_uri",
    "is_valid_cid",
    "is_valid_datetime",
    "is_valid_did",
    "is_valid_did_plc",
    "is_valid_did_web",
    "is_valid_handle",
    "is_valid_language",
    "is_valid_nsid",
    "is_valid_record_key",
    "is_valid_tid",
    "is_valid_uri",
    "parse_at_uri",
    "parse_datetime",
    "parse_did",
    "parse_nsid",
]
