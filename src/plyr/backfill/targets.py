"""What a backfill works through: the accounts it was given (handles resolved to DIDs,
duplicates dropped) or every repository a PDS or relay lists, read lazily so a relay's
millions of entries never sit in memory at once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import httpx

from plyr.atproto.identity import IdentityError
from plyr.backfill.network import FetchLimits, list_repos
from plyr.runtime import Runtime


@dataclass(frozen=True, slots=True)
class Target:
    """A repository to index, as named or listed."""

    name: str  # what the caller typed, or the DID a listing gave
    did: str | None = None
    listed_rev: str | None = None
    inactive: str | None = None  # why the listing calls it inactive
    error: str | None = None  # why it could not even be named (a handle that does not resolve)


async def targets_named(runtime: Runtime, identifiers: Sequence[str]) -> AsyncIterator[Target]:
    seen: set[str] = set()
    for identifier in identifiers:
        name = identifier.strip().removeprefix("@")
        if name.startswith("did:"):
            did = name
        else:
            try:
                did = (await runtime.identity.resolve(name)).did
            except IdentityError as exc:
                yield Target(name, error=exc.message)
                continue
        if did not in seen:
            seen.add(did)
            yield Target(name, did=did)


async def targets_listed(
    client: httpx.AsyncClient, service: str, limits: FetchLimits
) -> AsyncIterator[Target]:
    async for listed in list_repos(client, service, limits):
        status = listed.status or "no status"
        inactive = None if listed.active else f"inactive at its PDS ({status})"
        yield Target(listed.did, did=listed.did, listed_rev=listed.rev, inactive=inactive)
