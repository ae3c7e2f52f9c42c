"""Handles: the DNS hostnames accounts are known by (atproto.com/specs/handle).

`handle_problem` and `LABEL_RE` also serve the checks of did:web hosts, NSIDs and
AT-URI authorities.
"""

from __future__ import annotations

import re

from plyr.atproto.syntax.errors import InvalidSyntax, not_a_string

__all__ = [
    "DISALLOWED_TLDS",
    "INVALID_HANDLE",
    "LABEL_RE",
    "ensure_handle",
    "handle_problem",
    "is_disallowed_tld",
    "is_valid_handle",
]

INVALID_HANDLE = "handle.invalid"
"""The placeholder the network shows for an account whose handle does not verify."""

DISALLOWED_TLDS = frozenset(
    {"alt", "arpa", "example", "internal", "invalid", "local", "localhost", "onion"}
)
"""Reserved top-level domains: syntactically valid handles, never resolved or accepted.

`.test` is deliberately absent: the development network registers `*.test` handles.
"""

_HANDLE_MAX = 253
LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
"""One DNS label (also one NSID authority segment)."""


def handle_problem(value: object) -> str | None:
    """Why `value` is not a handle, or None when it is one."""
    if not isinstance(value, str):
        return not_a_string(value)
    if not value:
        return "empty"
    if len(value) > _HANDLE_MAX:
        return f"longer than {_HANDLE_MAX} characters"
    if not value.isascii():
        return "only ASCII is allowed (use the punycode xn-- form for other scripts)"
    labels = value.split(".")
    if len(labels) < 2:
        return "needs at least two labels; a bare top-level domain is not a handle"
    for label in labels:
        if not label:
            return "empty label (leading, trailing or doubled period)"
        if len(label) > 63:
            return f"label {label[:20]!r}... is longer than 63 characters"
        if not LABEL_RE.fullmatch(label):
            return (
                f"label {label!r} may only hold letters, digits and inner hyphens "
                "and must not start or end with a hyphen"
            )
    if not labels[-1][0].isalpha():
        return "the top-level domain must start with a letter"
    return None


def is_valid_handle(value: object) -> bool:
    return handle_problem(value) is None


def ensure_handle(value: object) -> str:
    """The handle, normalised to lowercase (handles compare case-insensitively)."""
    problem = handle_problem(value)
    if problem is not None:
        raise InvalidSyntax("handle", value, problem)
    assert isinstance(value, str)
    return value.lower()


def is_disallowed_tld(handle: str) -> bool:
    """True when the handle ends in a reserved TLD that must never be resolved or accepted.

    Such handles pass `is_valid_handle` (they are well-formed) but name hosts that are
    local, special-use or fictional; resolving them would reach into private networks.
    """
    return handle.rstrip(".").rsplit(".", 1)[-1].lower() in DISALLOWED_TLDS
