"""Albums follow their tracks' album field: uploading or editing a track files it under the
artist's album of that name (made on first use) and takes it off any other; renaming an
album rewrites the album field of its tracks."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.atproto.tid import next_tid
from plyr.db.models import ListItem, ListType, MusicList, utcnow
from plyr.runtime import Runtime
from plyr.social import sync
from plyr.social.list_rows import album_key, append_track, display_name, set_track_album


async def rename_album_on_tracks(db: AsyncSession, row: MusicList, name: str) -> None:
    """An album's tracks carry its name in their own records: republish the ones that differ."""
    track_ids = await db.scalars(select(ListItem.track_id).where(ListItem.list_id == row.id))
    for track_id in list(track_ids):
        if track_id is not None:
            await set_track_album(db, track_id, name)


async def file_under_album(
    db: AsyncSession, did: str, track_id: int, album: str | None, session_id: str | None = None
) -> None:
    """Keep album lists in step with a track's album field (upload or edit): take it off
    any other album of the artist, and append it to the named one, made if missing."""
    current = await db.execute(
        select(ListItem, MusicList)
        .join(MusicList, MusicList.id == ListItem.list_id)
        .where(
            ListItem.track_id == track_id,
            MusicList.list_type == ListType.album,
            MusicList.did == did,
        )
    )
    wanted = album_key(album) if album and album.strip() else None
    already = False
    for item, album_list in current:
        if album_list.unique_key == wanted:
            already = True
            continue
        await db.delete(item)
        album_list.updated_at = utcnow()
        await sync.changed(db, album_list, session_id)
    if wanted is None or already:
        return
    assert album is not None
    target = await db.scalar(
        select(MusicList).where(
            MusicList.did == did,
            MusicList.list_type == ListType.album,
            MusicList.unique_key == wanted,
        )
    )
    if target is None:
        target = MusicList(
            did=did,
            list_type=ListType.album,
            name=display_name(album),
            unique_key=wanted,
            rkey=next_tid(),
        )
        db.add(target)
        await db.flush()
    await append_track(db, target, track_id, did)
    target.updated_at = utcnow()
    await sync.changed(db, target, session_id)


async def albums_with_track(runtime: Runtime, track_id: int) -> list[MusicList]:
    async with runtime.sessions() as db:
        rows = await db.execute(
            select(MusicList)
            .join(ListItem, ListItem.list_id == MusicList.id)
            .where(ListItem.track_id == track_id, MusicList.list_type == ListType.album)
        )
        found = list(rows.scalars())
        db.expunge_all()
        return found
