"""Search over the JSON API: `GET /api/search` and `GET /api/handles/typeahead` (featured
artists on the upload form). Thin: the work is in `plyr.search`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from plyr.runtime import Runtime
from plyr.search import (
    DEFAULT_LIMIT,
    KINDS,
    MAX_LIMIT,
    MAX_QUERY_TEXT,
    Audience,
    SearchHit,
    SearchResults,
    parse_types,
    search,
)
from plyr.search.handles import suggest_handles
from plyr.social import sensitive
from plyr.web.shared.caller import OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import ApiError, error_responses
from plyr.web.shared.examples import PERSON, SITE, with_examples

router = APIRouter()

# No max_length: any text is a query, searched as plain text; past MAX_QUERY_TEXT
# characters it is cut off rather than refused (see plyr.search.service).
QUERY_TEXT = (
    f"searched as plain text (quotes, `*`, `:` are characters, not syntax); "
    f"input past {MAX_QUERY_TEXT} characters is ignored"
)


HIT: dict[str, Any] = {
    "type": "track",
    "id": "42",
    "title": "harbour lights",
    "subtitle": "alice",
    "url": f"{SITE}/tracks/42",
    "image_url": f"{SITE}/images/42/thumb",
    "score": 0.9,
    "match": "prefix",
    "sensitive": False,
}


class SearchHitOut(BaseModel):
    model_config = with_examples(HIT)

    type: str = Field(description="track, artist, album, playlist or tag")
    id: str = Field(description="the track, list or tag id; an artist's DID")
    title: str
    subtitle: str | None = Field(description="artist of a track, @handle, owner of a list…")
    url: str = Field(description="the page of the hit on this site")
    image_url: str | None = Field(description="artwork, cover or avatar (a thumbnail)")
    score: float = Field(
        ge=0,
        le=1,
        description="relevance: exact 1.0, prefix 0.9, word prefix 0.8, substring 0.7, "
        "typo-tolerant (trigram) matches below 0.6",
    )
    match: str = Field(description="exact, prefix, word_prefix, substring or fuzzy")
    sensitive: bool = Field(description="flagged artwork: show it blurred, or not at all")


class SearchGroupOut(BaseModel):
    model_config = with_examples({"type": "tracks", "hits": [HIT]})

    type: str = Field(description="tracks, artists, albums, playlists or tags")
    hits: list[SearchHitOut]


class SearchOut(BaseModel):
    model_config = with_examples(
        {"query": "harbour", "total": 1, "groups": [{"type": "tracks", "hits": [HIT]}]}
    )

    query: str = Field(description="what was searched for, normalised")
    total: int
    groups: list[SearchGroupOut] = Field(
        description="non-empty groups in the order tracks, artists, albums, playlists, tags; "
        "in each, the best match first (ties: most played, then newest)"
    )


HANDLE: dict[str, Any] = {**PERSON, "source": "plyr"}


class HandleOut(BaseModel):
    model_config = with_examples(HANDLE)

    did: str
    handle: str
    display_name: str | None
    avatar_url: str | None
    source: str = Field(description="`plyr`: an artist plyr knows; `network`: resolved now")


class TypeaheadOut(BaseModel):
    model_config = with_examples({"query": "ali", "handles": [HANDLE]})

    query: str
    handles: list[HandleOut]


def hit_out(runtime: Runtime, hit: SearchHit) -> SearchHitOut:
    return SearchHitOut(
        **hit.as_dict(), sensitive=sensitive.flagged_in_snapshot(runtime, *hit.images)
    )


def results_out(runtime: Runtime, results: SearchResults) -> SearchOut:
    return SearchOut(
        query=results.query,
        total=results.total,
        groups=[
            SearchGroupOut(type=kind, hits=[hit_out(runtime, hit) for hit in hits])
            for kind, hits in results.groups()
        ],
    )


def _types(values: list[str]) -> tuple[str, ...]:
    try:
        return parse_types(values)
    except ValueError as exc:
        raise ApiError(
            422, "invalid_input", str(exc), [{"field": "type", "message": str(exc)}]
        ) from exc


@router.get(
    "/api/search",
    tags=["search"],
    summary="search tracks, artists, albums, playlists, tags",
    responses=error_responses(401, 422),
)
async def search_api(
    runtime: RuntimeDep,
    caller: OptionalCaller,
    # A list, not list | None: an empty `type=` is then a documented value (all groups).
    type: Annotated[
        list[str],
        Query(
            default_factory=list,
            description=f"limit to some groups: {', '.join(KINDS)} (repeat or "
            "comma-separate; none or empty: all)",
        ),
    ],
    q: Annotated[
        str,
        Query(description=f"the query; typos and parts of words match; {QUERY_TEXT}"),
    ] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="hits per group")] = DEFAULT_LIMIT,
) -> SearchOut:
    """Published tracks (title, artist name), artists (handle, display name), albums,
    playlists and tags, grouped by type, each hit with a relevance score in 0..1.

    Matching is typo-tolerant (trigram similarity: "radiohed" finds radiohead) and finds
    parts of words ("bufo" finds bufos); queries under 3 characters match substrings only.
    Tracks their artists labelled `sexual` or `porn` are left out unless you opted in
    (the `show_sensitive` preference) or made them.
    """
    types = _types(type)
    await sensitive.refresh_if_stale(runtime)
    audience = Audience(
        caller.did if caller else None,
        bool(caller and caller.preferences and caller.preferences.show_warned_tracks),
    )
    found = await search(runtime, q, types=types, limit=limit, audience=audience)
    return results_out(runtime, found)


@router.get(
    "/api/handles/typeahead",
    tags=["search"],
    summary="featured artist suggestions by handle",
    responses=error_responses(422),
)
async def handle_typeahead(
    runtime: RuntimeDep,
    q: Annotated[str, Query(description=f"part of a handle or name; {QUERY_TEXT}")] = "",
) -> TypeaheadOut:
    """Artists plyr knows whose handle or display name matches (typos too), best first;
    when `q` is a complete handle plyr does not know, the network's answer for it as well
    (resolved and verified both ways; nothing when it does not resolve)."""
    query, found = await suggest_handles(runtime, q)
    handles = [HandleOut(**asdict(suggestion)) for suggestion in found]
    return TypeaheadOut(query=query, handles=handles)
