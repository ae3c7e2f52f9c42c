"""Generic URIs (RFC 3986), as the lexicon `uri` format holds them."""

from __future__ import annotations

import re

from plyr.atproto.syntax.errors import InvalidSyntax, not_a_string

__all__ = [
    "ensure_uri",
    "is_valid_uri",
]

_URI_MAX = 8192
_URI_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_URI_REST_RE = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+")


def _uri_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return not_a_string(value)
    if len(value) > _URI_MAX:
        return f"longer than {_URI_MAX} characters"
    scheme, sep, rest = value.partition(":")
    if not sep or not _URI_SCHEME_RE.fullmatch(scheme):
        return "must start with a scheme (a letter, then letters, digits, + . -) and ':'"
    if not rest:
        return "nothing after the scheme"
    if not _URI_REST_RE.fullmatch(rest):
        return (
            "only RFC 3986 characters are allowed (no whitespace or non-ASCII; "
            "'%' must start a %XX escape)"
        )
    return None


def is_valid_uri(value: object) -> bool:
    return _uri_problem(value) is None


def ensure_uri(value: object) -> str:
    problem = _uri_problem(value)
    if problem is not None:
        raise InvalidSyntax("uri", value, problem)
    assert isinstance(value, str)
    return value
