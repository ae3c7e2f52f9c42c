"""Featured-artist suggestions by handle: artists plyr knows whose handle or display name
matches (typos too), best first; and when the query is a complete handle plyr does not know,
the network's answer for it as well (resolved and verified both ways)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import httpx

from plyr.atproto.identity import IdentityError
from plyr.atproto.syntax import is_valid_handle
from plyr.runtime import Runtime
from plyr.search.service import clean_query, search

log = logging.getLogger(__name__)

SUGGESTIONS = 8


@dataclass(frozen=True, slots=True)
class HandleSuggestion:
    did: str
    handle: str
    display_name: str | None
    avatar_url: str | None
    source: Literal["plyr", "network"]


async def suggest_handles(runtime: Runtime, query: str) -> tuple[str, list[HandleSuggestion]]:
    """The cleaned query and its suggestions."""
    query = clean_query(query)
    handles: list[HandleSuggestion] = []
    if query:
        results = await search(runtime, query, types=("artists",), limit=SUGGESTIONS)
        for hit in results.artists:
            handle = (hit.subtitle or "").removeprefix("@")  # artist hits: "@handle"
            handles.append(
                HandleSuggestion(
                    did=hit.id,
                    handle=handle,
                    display_name=hit.title if hit.title != handle else None,
                    avatar_url=hit.image_url,
                    source="plyr",
                )
            )
        known = {h.handle for h in handles} | {h.did for h in handles}
        if query not in known and is_valid_handle(query):
            found = await _resolve(runtime, query)
            if found is not None and found.did not in known:
                handles.append(found)
    return query, handles


async def _resolve(runtime: Runtime, handle: str) -> HandleSuggestion | None:
    """The network's identity for a handle, or None (unknown, invalid, unreachable)."""
    try:
        identity = await runtime.identity.resolve(handle)
    except (IdentityError, httpx.HTTPError, TimeoutError) as exc:
        log.debug("typeahead: %s does not resolve: %s", handle, exc)
        return None
    if identity.handle is None:
        return None
    return HandleSuggestion(
        did=identity.did,
        handle=identity.handle,
        display_name=None,
        avatar_url=None,
        source="network",
    )
