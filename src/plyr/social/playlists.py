"""Playlists as players see them (the Subsonic surface; any client that edits a playlist in
one step): the songs shown, counted and timed; several edits at once; the songs replaced.

A player meets only the entries listeners may meet (`lists.entries`: published tracks, not
taken down, their account not hidden); entries naming records plyr does not index are
not songs either. So positions a player names count those entries only, and replacing
the songs keeps the entries it never saw (a taken-down track comes back if the takedown
is reversed; a record of another client stays), after the new ones. Each change is one
transaction with one sync of the list (`sync.changed`), like the web's single steps in
`lists.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.db.models import ListItem, ListType, MusicList, Track, utcnow
from plyr.db.visibility import track_listed
from plyr.errors import ServiceError
from plyr.runtime import Runtime
from plyr.social import sync
from plyr.social.list_rows import append_track, clean_name, owned_list


@dataclass(frozen=True)
class PlaylistSummary:
    """A playlist with the songs a player is shown: how many, how long in all, and how
    many of them have artwork."""

    row: MusicList
    song_count: int
    duration_seconds: int
    with_artwork: int


def _shown() -> ColumnElement[bool]:
    """The join condition of a list entry's track a player is shown."""
    return and_(Track.id == ListItem.track_id, Track.atproto_uri.is_not(None), track_listed())


async def playlist_summaries(runtime: Runtime, did: str) -> list[PlaylistSummary]:
    """`did`'s playlists, newest first, each with its shown songs counted and timed."""
    query = (
        select(
            MusicList,
            func.count(Track.id),
            func.coalesce(func.sum(Track.duration_seconds), 0),
            func.count(Track.image_key),
        )
        .outerjoin(ListItem, ListItem.list_id == MusicList.id)
        .outerjoin(Track, _shown())
        .where(MusicList.did == did, MusicList.list_type == ListType.playlist)
        .group_by(MusicList.id)
        .order_by(MusicList.created_at.desc(), MusicList.id.desc())
    )
    async with runtime.sessions() as db:
        rows = [
            PlaylistSummary(row, int(count), int(seconds or 0), int(art))
            for row, count, seconds, art in await db.execute(query)
        ]
        db.expunge_all()
        return rows


async def _owned_playlist(db: AsyncSession, list_id: int, did: str) -> MusicList:
    row = await owned_list(db, list_id, did)
    if row.list_type != ListType.playlist:
        raise ServiceError(404, "not_found", "no such playlist")
    return row


async def _shown_item_ids(db: AsyncSession, list_id: int) -> list[int]:
    """The entries a player is shown, in order (as `lists.entries` with published tracks)."""
    rows = await db.execute(
        select(ListItem.id)
        .join(Track, _shown())
        .where(ListItem.list_id == list_id)
        .order_by(ListItem.position, ListItem.id)
    )
    return list(rows.scalars())


async def shown_item_ids(runtime: Runtime, list_id: int) -> list[int]:
    async with runtime.sessions() as db:
        return await _shown_item_ids(db, list_id)


async def edit_playlist(
    runtime: Runtime,
    list_id: int,
    did: str,
    *,
    name: str | None = None,
    add_track_ids: Sequence[int] = (),
    remove_positions: Sequence[int] = (),
    session_id: str | None = None,
) -> MusicList:
    """Rename, remove the entries at these positions (0-based, among the shown songs, as
    the player counts them), then append these tracks, all or nothing. A position past the
    end is refused (404) before anything changes."""
    async with runtime.sessions() as db:
        row = await _owned_playlist(db, list_id, did)
        shown = await _shown_item_ids(db, list_id)
        for position in remove_positions:
            if not 0 <= position < len(shown):
                message = f"no song at index {position}: the playlist shows {len(shown)}"
                raise ServiceError(404, "not_found", message)
        if name is None and not add_track_ids and not remove_positions:
            db.expunge(row)
            return row  # nothing asked: no record to rewrite
        if name is not None:
            row.name = clean_name(name)
        dropped = {shown[position] for position in remove_positions}
        for item in [item for item in row.items if item.id in dropped]:
            row.items.remove(item)
        await db.flush()
        for track_id in add_track_ids:
            await append_track(db, row, track_id, did)
        row.updated_at = utcnow()
        await sync.changed(db, row, session_id)
        await db.commit()
        db.expunge(row)
        return row


async def replace_songs(
    runtime: Runtime,
    list_id: int,
    did: str,
    track_ids: Sequence[int],
    *,
    name: str | None = None,
    session_id: str | None = None,
) -> MusicList:
    """The shown songs become these tracks, in this order (and the name this one, when
    given); entries a player is not shown stay, after them. All or nothing."""
    async with runtime.sessions() as db:
        row = await _owned_playlist(db, list_id, did)
        if name is not None:
            row.name = clean_name(name)
        shown = set(await _shown_item_ids(db, list_id))
        kept = [item for item in row.items if item.id not in shown]
        for item in [item for item in row.items if item.id in shown]:
            row.items.remove(item)
        await db.flush()
        added = [await append_track(db, row, track_id, did) for track_id in track_ids]
        for position, item in enumerate(added + kept):  # the kept ones in their old order
            item.position = position
        row.updated_at = utcnow()
        await sync.changed(db, row, session_id)
        await db.commit()
        db.expunge(row)
        return row
