"""AT-URIs (`at://<authority>/<collection>/<rkey>`) and at-identifiers (a DID or a handle)."""

from __future__ import annotations

from dataclasses import dataclass

from plyr.atproto.syntax.did import did_problem, ensure_did, is_valid_did
from plyr.atproto.syntax.errors import InvalidSyntax, not_a_string
from plyr.atproto.syntax.handle import ensure_handle, handle_problem, is_valid_handle
from plyr.atproto.syntax.nsid import nsid_problem
from plyr.atproto.syntax.recordkey import record_key_problem

__all__ = [
    "AtUri",
    "ensure_at_identifier",
    "ensure_at_uri",
    "is_valid_at_identifier",
    "is_valid_at_uri",
    "parse_at_uri",
]


def is_valid_at_identifier(value: object) -> bool:
    return is_valid_handle(value) or is_valid_did(value)


def ensure_at_identifier(value: object) -> str:
    """A DID as is, or a handle normalised to lowercase."""
    if isinstance(value, str) and value.startswith("did:"):
        return ensure_did(value)
    problem = handle_problem(value)
    if problem is not None:
        raise InvalidSyntax("at-identifier", value, f"neither a DID nor a handle: {problem}")
    return ensure_handle(value)


_AT_URI_MAX = 8192


def _at_uri_parts_problem(authority: str, collection: str | None, rkey: str | None) -> str | None:
    problem = did_problem(authority) if authority.startswith("did:") else handle_problem(authority)
    if problem is not None:
        return f"bad authority {authority[:40]!r}: {problem}"
    if collection is not None:
        problem = nsid_problem(collection)
        if problem is not None:
            return f"bad collection {collection[:40]!r}: {problem}"
    if rkey is not None:
        if collection is None:
            return "a record key needs a collection"
        problem = record_key_problem(rkey)
        if problem is not None:
            return f"bad record key {rkey[:40]!r}: {problem}"
    return None


@dataclass(frozen=True, slots=True)
class AtUri:
    """`at://<authority>[/<collection>[/<rkey>]]`, the restricted form records use.

    Constructing one validates the parts; `parse_at_uri` reads one from a string.
    """

    authority: str
    collection: str | None = None
    rkey: str | None = None

    def __post_init__(self) -> None:
        problem = _at_uri_parts_problem(self.authority, self.collection, self.rkey)
        if problem is not None:
            raise InvalidSyntax("at-uri", str(self), problem)

    def __str__(self) -> str:
        uri = f"at://{self.authority}"
        if self.collection is not None:
            uri += f"/{self.collection}"
            if self.rkey is not None:
                uri += f"/{self.rkey}"
        return uri

    @property
    def is_record(self) -> bool:
        """True when the URI names one record (it has a collection and a record key)."""
        return self.rkey is not None


def _split_at_uri(value: object) -> tuple[str | None, tuple[str, str | None, str | None]]:
    if not isinstance(value, str):
        return not_a_string(value), ("", None, None)
    if len(value) > _AT_URI_MAX:
        return f"longer than {_AT_URI_MAX} characters", ("", None, None)
    if not value.startswith("at://"):
        return "must start with lowercase 'at://'", ("", None, None)
    rest = value[len("at://") :]
    if "#" in rest or "?" in rest:
        return "no query or fragment is allowed", ("", None, None)
    parts = rest.split("/")
    if len(parts) > 3:
        return "at most authority/collection/rkey", ("", None, None)
    if any(not part for part in parts):
        return "empty path segment (trailing or doubled slash)", ("", None, None)
    authority = parts[0]
    if not authority.startswith("did:") and handle_problem(authority) is None:
        authority = authority.lower()
    collection = parts[1] if len(parts) > 1 else None
    rkey = parts[2] if len(parts) > 2 else None
    return _at_uri_parts_problem(authority, collection, rkey), (authority, collection, rkey)


def is_valid_at_uri(value: object) -> bool:
    return _split_at_uri(value)[0] is None


def parse_at_uri(value: object) -> AtUri:
    """Parse an AT-URI; a handle authority is normalised to lowercase."""
    problem, parts = _split_at_uri(value)
    if problem is not None:
        raise InvalidSyntax("at-uri", value, problem)
    return AtUri(*parts)


def ensure_at_uri(value: object) -> str:
    return str(parse_at_uri(value))
