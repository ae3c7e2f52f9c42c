"""NSIDs: the reversed-domain names of lexicons and collections (atproto.com/specs/nsid)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from plyr.atproto.syntax.errors import InvalidSyntax, not_a_string
from plyr.atproto.syntax.handle import LABEL_RE

__all__ = [
    "Nsid",
    "ensure_nsid",
    "is_valid_nsid",
    "nsid_problem",
    "parse_nsid",
]

_NSID_MAX = 317
_NSID_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9]{0,62}")


@dataclass(frozen=True, slots=True)
class Nsid:
    """A parsed NSID: reversed-domain `authority` plus camelCase `name`."""

    authority: str
    name: str

    def __str__(self) -> str:
        return f"{self.authority}.{self.name}"

    @property
    def domain(self) -> str:
        """The authority as a (lowercase) domain name: `fm.plyr` -> `plyr.fm`."""
        return ".".join(reversed(self.authority.lower().split(".")))


def nsid_problem(value: object) -> str | None:
    """Why `value` is not an NSID, or None when it is one."""
    if not isinstance(value, str):
        return not_a_string(value)
    if len(value) > _NSID_MAX:
        return f"longer than {_NSID_MAX} characters"
    if not value.isascii():
        return "only ASCII is allowed"
    segments = value.split(".")
    if len(segments) < 3:
        return "needs at least three segments (reversed domain plus a name)"
    *authority, name = segments
    for segment in authority:
        if not segment:
            return "empty segment (leading, trailing or doubled period)"
        if len(segment) > 63:
            return f"segment {segment[:20]!r}... is longer than 63 characters"
        if not LABEL_RE.fullmatch(segment):
            return f"authority segment {segment!r} may only hold letters, digits and inner hyphens"
    if not authority[0][0].isalpha():
        return "the first segment (a top-level domain) must start with a letter"
    if not name:
        return "the name is empty"
    if len(name) > 63:
        return "the name is longer than 63 characters"
    if not _NSID_NAME_RE.fullmatch(name):
        return f"the name {name!r} must be letters and digits, starting with a letter"
    return None


def is_valid_nsid(value: object) -> bool:
    return nsid_problem(value) is None


def ensure_nsid(value: object) -> str:
    problem = nsid_problem(value)
    if problem is not None:
        raise InvalidSyntax("nsid", value, problem)
    assert isinstance(value, str)
    return value


def parse_nsid(value: object) -> Nsid:
    authority, _, name = ensure_nsid(value).rpartition(".")
    return Nsid(authority, name)
