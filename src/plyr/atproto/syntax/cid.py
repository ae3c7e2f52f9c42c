"""CIDs as strings: the syntax only; plyr.atproto.dagcbor decodes CIDs for real."""

from __future__ import annotations

import re

from plyr.atproto.syntax.errors import InvalidSyntax, not_a_string

__all__ = [
    "ensure_cid",
    "is_valid_cid",
]

_CID_RE = re.compile(r"[A-Za-z0-9+=]{8,256}")
_CIDV0_RE = re.compile(r"Qm[1-9A-HJ-NP-Za-km-z]{44}")


def _cid_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return not_a_string(value)
    if not _CID_RE.fullmatch(value):
        return "a CID string is 8-256 characters of letters, digits, + and ="
    if _CIDV0_RE.fullmatch(value):
        return "CIDv0 (Qm...) is not supported; atproto uses CIDv1"
    return None


def is_valid_cid(value: object) -> bool:
    return _cid_problem(value) is None


def ensure_cid(value: object) -> str:
    problem = _cid_problem(value)
    if problem is not None:
        raise InvalidSyntax("cid", value, problem)
    assert isinstance(value, str)
    return value
