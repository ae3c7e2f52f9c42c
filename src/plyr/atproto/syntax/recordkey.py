"""Record keys, and TIDs: the timestamp identifiers most collections use as record keys.

Only the syntax; plyr.atproto.tid makes TIDs.
"""

from __future__ import annotations

import re

from plyr.atproto.syntax.errors import InvalidSyntax, not_a_string

__all__ = [
    "TID_ALPHABET",
    "ensure_record_key",
    "ensure_tid",
    "is_valid_record_key",
    "is_valid_tid",
    "record_key_problem",
]

_RECORD_KEY_RE = re.compile(r"[A-Za-z0-9._:~-]{1,512}")


def record_key_problem(value: object) -> str | None:
    """Why `value` is not a record key, or None when it is one."""
    if not isinstance(value, str):
        return not_a_string(value)
    if not value:
        return "empty"
    if len(value) > 512:
        return "longer than 512 characters"
    if value in (".", ".."):
        return "'.' and '..' are not record keys"
    if not _RECORD_KEY_RE.fullmatch(value):
        return "may only hold letters, digits and . _ : ~ -"
    return None


def is_valid_record_key(value: object) -> bool:
    return record_key_problem(value) is None


def ensure_record_key(value: object) -> str:
    problem = record_key_problem(value)
    if problem is not None:
        raise InvalidSyntax("record key", value, problem)
    assert isinstance(value, str)
    return value


TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_TID_RE = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")


def _tid_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return not_a_string(value)
    if len(value) != 13:
        return f"a TID is 13 characters, got {len(value)}"
    if any(c not in TID_ALPHABET for c in value):
        return f"a TID uses only the characters {TID_ALPHABET}"
    if not _TID_RE.fullmatch(value):
        return "the first character must be 2-7 or a-j (the top bit of a TID is zero)"
    return None


def is_valid_tid(value: object) -> bool:
    return _tid_problem(value) is None


def ensure_tid(value: object) -> str:
    problem = _tid_problem(value)
    if problem is not None:
        raise InvalidSyntax("tid", value, problem)
    assert isinstance(value, str)
    return value
