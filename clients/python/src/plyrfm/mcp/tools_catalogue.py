"""The tools anyone may use, token or not: search, a track, an artist's tracks, the top
tracks, and what someone plays now.

Tools return `CallToolResult`s annotated with their record type: the text is written for a
model to read, the structured content is the record (its class is the outputSchema). A
failure is raised (a `PlyrError`) and becomes an isError result in `server.py`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from plyrfm.mcp.backend import Backend, answer
from plyrfm.mcp.shapes import (
    NowPlayingCard,
    SearchAnswer,
    TopTracks,
    TrackCard,
    TrackList,
    now_playing_card,
    now_playing_text,
    ranked_card,
    search_answer,
    search_text,
    top_text,
    track_card,
    track_line,
    track_lines,
)

T = TypeVar("T")

READS = ToolAnnotations(read_only_hint=True, open_world_hint=True)

TrackId = Annotated[int, Field(ge=1, description="a plyr track id, e.g. 12")]
Person = Annotated[
    str,
    Field(min_length=1, max_length=300, description="a handle (alice.bsky.social) or a DID"),
]
Limit = Annotated[int, Field(ge=1, le=100, description="how many to return")]


async def first(items: AsyncIterator[T], count: int) -> list[T]:
    """The first `count` items of a paged listing, without fetching further pages."""
    taken: list[T] = []
    try:
        async for item in items:
            taken.append(item)
            if len(taken) >= count:
                break
    finally:
        close = getattr(items, "aclose", None)
        if close is not None:
            await close()
    return taken


def register_catalogue_tools(server: MCPServer[Any], backend: Backend) -> None:
    client, site = backend.client, backend.site

    @server.tool(title="Search plyr", annotations=READS)
    async def search(
        query: Annotated[str, Field(min_length=1, max_length=200, description="words to look for")],
        limit: Annotated[int, Field(ge=1, le=50, description="hits per kind")] = 10,
    ) -> Annotated[CallToolResult, SearchAnswer]:
        """Search plyr's music: tracks (by title or artist), artists, albums, playlists and
        tags. Typo-tolerant; the best matches first. Use get_track for a track's details."""
        found = search_answer(await client.search(query, limit=limit), site)
        return answer(search_text(found), found)

    @server.tool(title="Get a track", annotations=READS)
    async def get_track(track_id: TrackId) -> Annotated[CallToolResult, TrackCard]:
        """A track's details: title, artist, album, tags, duration, plays, content warnings,
        its page and audio URLs."""
        card = track_card(await client.track(track_id), site)
        extra = f"\n{card.description}" if card.description else ""
        return answer(track_line(card) + extra, card)

    @server.tool(title="An artist's tracks", annotations=READS)
    async def artist_tracks(
        artist: Person, limit: Limit = 20
    ) -> Annotated[CallToolResult, TrackList]:
        """An artist's published tracks, newest first."""
        tracks = await first(client.tracks(artist, page_size=min(limit + 1, 100)), limit + 1)
        listing = TrackList(
            artist=artist,
            tracks=[track_card(track, site) for track in tracks[:limit]],
            more=len(tracks) > limit,
        )
        more = "\n(more tracks: raise the limit)" if listing.more else ""
        text = track_lines(listing.tracks, f"{artist} has no published tracks on plyr")
        return answer(f"tracks by {artist}:\n{text}{more}", listing)

    @server.tool(title="Top tracks", annotations=READS)
    async def top_tracks(
        window: Annotated[
            Literal["day", "week", "month", "all"],
            Field(description="count plays in the last day, week or month, or all time"),
        ] = "week",
        limit: Limit = 10,
    ) -> Annotated[CallToolResult, TopTracks]:
        """The most played published tracks in a time window; ties go to the newest."""
        ranked = await client.top_tracks(window=window, limit=limit)
        top = TopTracks(window=window, tracks=[ranked_card(item, site) for item in ranked])
        return answer(top_text(top), top)

    @server.tool(title="Now playing", annotations=READS)
    async def now_playing(listener: Person) -> Annotated[CallToolResult, NowPlayingCard]:
        """What a listener is playing on plyr right now (and where in the track), or that
        nothing plays."""
        card = now_playing_card(listener, await client.now_playing(listener))
        return answer(now_playing_text(card), card)
