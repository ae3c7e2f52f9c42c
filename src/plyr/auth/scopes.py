"""atproto OAuth scope strings: reading them, and whether a grant covers a request.

A scope is `resource[:positional][?param=value&…]` (atproto.com/specs/permission). A
server may answer with other spellings of what was asked: it expands
`include:fm.plyr.authFullApp` into `repo?collection=fm.plyr.actor.profile&collection=…`
(collections sorted, the default actions left out), and it may merge or reorder. So a
grant is compared by meaning, not by string: `repo:` and `blob:` scopes by what they
allow, an `include:` by the permissions its set holds, anything else (`atproto`, `rpc:`,
`transition:…`) by equality. `transition:generic` allows every repo write and blob.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from plyr.atproto.lexicon.permissions import REPO_ACTIONS

__all__ = [
    "BlobScope",
    "IncludeScope",
    "PermissionSetLookup",
    "RepoScope",
    "expand_permission_set",
    "missing",
    "parse",
]

GENERIC = "transition:generic"


@dataclass(frozen=True, slots=True)
class RepoScope:
    """Writes of `actions` to `collections` (`*`: any collection)."""

    collections: frozenset[str]
    actions: frozenset[str]

    def allows(self, collection: str, action: str) -> bool:
        return action in self.actions and (
            "*" in self.collections or collection in self.collections
        )


@dataclass(frozen=True, slots=True)
class BlobScope:
    """Uploads of blobs whose MIME type matches one of `accept` (`image/*`, `*/*`)."""

    accept: frozenset[str]


@dataclass(frozen=True, slots=True)
class IncludeScope:
    """`include:<nsid>`: the permissions of a published permission set."""

    nsid: str
    aud: str | None = None


Scope = RepoScope | BlobScope | IncludeScope
# nsid -> the set's permissions (lexicon `permission` objects), None when not known here
PermissionSetLookup = Callable[[str], list[dict[str, Any]] | None]


def _split(value: str) -> tuple[str, str | None, list[tuple[str, str]]]:
    """(resource, positional, params) the way the reference parser splits a scope."""
    query_at, colon_at = value.find("?"), value.find(":")
    ends = [at for at in (query_at, colon_at) if at != -1]
    if not ends:
        return value, None, []
    resource = value[: min(ends)]
    positional: str | None = None
    if colon_at != -1 and (query_at == -1 or colon_at < query_at):
        positional = unquote(value[colon_at + 1 : query_at if query_at != -1 else None])
    params = parse_qsl(value[query_at + 1 :], keep_blank_values=True) if query_at != -1 else []
    return resource, positional, params


def _values(
    positional: str | None, params: list[tuple[str, str]], name: str, known: set[str]
) -> list[str] | None:
    """The positional value or the named ones, never both; None for unknown parameters."""
    if any(key not in known for key, _ in params):
        return None
    named = [value for key, value in params if key == name]
    if positional is not None and named:
        return None
    return [positional] if positional is not None else named


def parse(value: str) -> Scope | None:
    """A `repo`, `blob` or `include` scope; None for any other (compared as a string) or a
    malformed one."""
    resource, positional, params = _split(value)
    if resource == "repo":
        collections = _values(positional, params, "collection", {"collection", "action"})
        actions = [value for key, value in params if key == "action"] or list(REPO_ACTIONS)
        if not collections or any(action not in REPO_ACTIONS for action in actions):
            return None
        return RepoScope(frozenset(collections), frozenset(actions))
    if resource == "blob":
        accept = _values(positional, params, "accept", {"accept"})
        if not accept or any(pattern.count("/") != 1 for pattern in accept):
            return None
        return BlobScope(frozenset(accept))
    if resource == "include":
        nsids = _values(positional, params, "nsid", {"nsid", "aud"})
        auds = [value for key, value in params if key == "aud"]
        if not nsids or len(nsids) != 1 or len(auds) > 1:
            return None
        return IncludeScope(nsids[0], auds[0] if auds else None)
    return None


def expand_permission_set(permissions: Iterable[dict[str, Any]]) -> list[Scope | str]:
    """What a PDS grants for a set's permissions: `repo` permissions as RepoScope, `rpc`
    ones as scope strings (compared as strings); nothing else is granted through a set."""
    granted: list[Scope | str] = []
    for permission in permissions:
        if permission.get("resource") == "repo":
            actions = permission.get("action") or list(REPO_ACTIONS)
            granted.append(RepoScope(frozenset(permission["collection"]), frozenset(actions)))
        elif permission.get("resource") == "rpc":
            aud = permission.get("aud")
            granted.extend(
                f"rpc:{lxm}?aud={aud}" if aud else f"rpc:{lxm}" for lxm in permission["lxm"]
            )
    return granted


def _blob_covers(have: str, want: str) -> bool:
    if have in ("*/*", want):
        return True
    return have.endswith("/*") and want.split("/")[0] == have.split("/")[0] and want != "*/*"


class _Grant:
    """A granted scope string, read once."""

    def __init__(self, granted: str) -> None:
        tokens = granted.split()
        self.strings = set(tokens)
        parsed = [parse(token) for token in tokens]
        generic = GENERIC in self.strings
        self.repo = [scope for scope in parsed if isinstance(scope, RepoScope)]
        self.blob = [scope for scope in parsed if isinstance(scope, BlobScope)]
        if generic:
            self.repo.append(RepoScope(frozenset({"*"}), frozenset(REPO_ACTIONS)))
            self.blob.append(BlobScope(frozenset({"*/*"})))

    def covers(self, wanted: Scope | str, sets: PermissionSetLookup) -> bool:
        if isinstance(wanted, str):
            parsed = parse(wanted)
            if parsed is None:
                return wanted in self.strings
            return self.covers(parsed, sets)
        if isinstance(wanted, RepoScope):
            return all(
                any(have.allows(collection, action) for have in self.repo)
                for collection in wanted.collections
                for action in wanted.actions
            )
        if isinstance(wanted, BlobScope):
            return all(
                any(
                    _blob_covers(have_mime, mime) for have in self.blob for have_mime in have.accept
                )
                for mime in wanted.accept
            )
        # A set counts by what it holds, even when the server echoed the include back
        # (that server did not expand it, so it will not allow those writes either); a set
        # not known here is never granted: nothing says what the server allowed for it.
        permissions = sets(wanted.nsid)
        if permissions is None:
            return False
        return all(self.covers(part, sets) for part in expand_permission_set(permissions))


def _no_sets(_nsid: str) -> None:
    return None


def missing(
    requested: str | Sequence[str], granted: str, sets: PermissionSetLookup = _no_sets
) -> list[str]:
    """The requested scopes the grant does not cover, in the order asked (stable messages).

    An `include:` counts as granted when every permission of its set (`sets(nsid)`) is:
    the server never hands the `include:` back, it hands back what the set held when it
    resolved it. An `include:` of a set `sets` does not know is never granted.
    """
    wanted = requested.split() if isinstance(requested, str) else list(requested)
    grant = _Grant(granted)
    return [scope for scope in wanted if not grant.covers(scope, sets)]
