"""The whole library in a stable order, for players that sync it (Subsonic's search2 and
search3 with an empty query): artists by DID, songs by id, a page at any offset (albums:
`library_lists.album_page(order="by_id")`). New entries come at the end of the song order
(ids only grow), so a player paging through while someone uploads skips nothing."""

from __future__ import annotations

from array import array

from sqlalchemy import select

from plyr.db.models import Artist, Track
from plyr.runtime import Runtime
from plyr.tracks.library import song_listed
from plyr.tracks.library_lists import MAX_PAGE
from plyr.tracks.listing_cache import cached


async def artist_dids_page(runtime: Runtime, *, limit: int, offset: int = 0) -> list[str]:
    """Artists with a song (accounts not hidden), by DID (stable for offsets)."""
    limit = max(0, min(limit, MAX_PAGE))
    if limit == 0:
        return []
    has_song = select(Track.id).where(Track.artist_did == Artist.did, song_listed()).exists()
    query = (
        select(Artist.did)
        .where(Artist.hidden_at.is_(None), has_song)
        .order_by(Artist.did)
        .offset(max(0, offset))
        .limit(limit)
    )
    async with runtime.sessions() as db:
        return list((await db.execute(query)).scalars())


async def song_ids(runtime: Runtime) -> array[int]:
    """Every song's id, ascending (kept `listing_cache.CACHE_SECONDS`)."""

    async def build() -> array[int]:
        query = select(Track.id).where(song_listed()).order_by(Track.id)
        async with runtime.sessions() as db:
            return array("q", (await db.execute(query)).scalars())

    return await cached(runtime, "songs", build)


async def song_ids_page(runtime: Runtime, *, limit: int, offset: int = 0) -> list[int]:
    """Songs by id: the primary key's order, stable for offsets (new songs come last). A
    song gone since the order was read (a takedown in another process) is skipped and the
    page filled from past it: players stop syncing at the first short page."""
    limit = max(0, min(limit, MAX_PAGE))
    every = await song_ids(runtime)
    found: list[int] = []
    start = max(0, offset)
    while len(found) < limit and start < len(every):
        part = list(every[start : start + limit - len(found)])
        start += len(part)
        async with runtime.sessions() as db:
            kept = set(
                (
                    await db.execute(select(Track.id).where(Track.id.in_(part), song_listed()))
                ).scalars()
            )
        found += [song_id for song_id in part if song_id in kept]
    return found
