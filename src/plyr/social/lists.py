"""Albums, playlists and the liked list: ordered `fm.plyr.list` records, one per list.

Every change is committed with its sync job (see sync.py); the owner is the only one who
may change a list. Albums hold their artist's own tracks; playlists hold anyone's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import anyio
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from plyr.atproto.lexicon import grapheme_length
from plyr.atproto.tid import next_tid
from plyr.db.models import ListItem, ListType, MusicList, PublishState, Track, utcnow
from plyr.errors import ServiceError
from plyr.jobs.queue import enqueue
from plyr.media.artwork import process_artwork
from plyr.media.errors import UnsafeImage, UnsupportedImage
from plyr.media.sniff import sniff_image
from plyr.runtime import Runtime
from plyr.social import sync
from plyr.storage.artwork import store_artwork

MAX_ITEMS = 500  # the lexicon's limit
MAX_NAME = 256
MAX_NAME_GRAPHEMES = 64  # the lexicon's other limit on `name`: a longer one fails to publish


def _clean_name(name: str | None) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ServiceError(422, "invalid_name", "give the list a name")
    if len(cleaned.encode()) > MAX_NAME or grapheme_length(cleaned) > MAX_NAME_GRAPHEMES:
        raise ServiceError(
            422, "invalid_name", f"names are at most {MAX_NAME_GRAPHEMES} characters"
        )
    return cleaned


def _display_name(name: str) -> str:
    """An album name from a track's album field (up to 256 characters), cut to what the
    list record holds; the full name still keys the album (`album_key`)."""
    cleaned = " ".join(name.split())
    while len(cleaned.encode()) > MAX_NAME or grapheme_length(cleaned) > MAX_NAME_GRAPHEMES:
        cleaned = cleaned[:-1]
    return cleaned


def album_key(name: str) -> str:
    return " ".join(name.casefold().split())[:256]


async def owned_list(db: AsyncSession, list_id: int, did: str) -> MusicList:
    """The list, if `did` owns it: 404 when it does not exist, 403 when someone else's."""
    row = await db.get(MusicList, list_id, options=[selectinload(MusicList.items)])
    if row is None:
        raise ServiceError(404, "not_found", "no such list")
    if row.did != did:
        raise ServiceError(403, "forbidden", "only its owner can change this list")
    return row


async def get_list(runtime: Runtime, list_id: int) -> MusicList:
    async with runtime.sessions() as db:
        row = await db.get(MusicList, list_id)
        if row is None:
            raise ServiceError(404, "not_found", "no such list")
        db.expunge(row)
        return row


@dataclass
class Entry:
    """One entry of a list as pages show it: the item and the track, when plyr has it."""

    item_id: int
    position: int
    track: Track | None
    subject_uri: str


async def entries(runtime: Runtime, list_id: int, *, published_only: bool = True) -> list[Entry]:
    async with runtime.sessions() as db:
        rows = await db.execute(
            select(ListItem, Track)
            .outerjoin(Track, Track.id == ListItem.track_id)
            .options(selectinload(Track.artist))
            .where(ListItem.list_id == list_id)
            .order_by(ListItem.position, ListItem.id)
        )
        found = []
        for item, track in rows:
            if track is not None and published_only and track.atproto_uri is None:
                continue
            found.append(Entry(item.id, item.position, track, item.subject_uri))
        db.expunge_all()
        return found


async def lists_of(
    runtime: Runtime, did: str, list_type: ListType | None = None
) -> list[tuple[MusicList, int]]:
    """A user's lists (newest first) with how many entries each has."""
    async with runtime.sessions() as db:
        query = (
            select(MusicList, func.count(ListItem.id))
            .outerjoin(ListItem, ListItem.list_id == MusicList.id)
            .where(MusicList.did == did)
            .group_by(MusicList.id)
            .order_by(MusicList.created_at.desc(), MusicList.id.desc())
        )
        if list_type is not None:
            query = query.where(MusicList.list_type == list_type)
        rows = [(row, count) for row, count in await db.execute(query)]
        db.expunge_all()
        return rows


async def create_list(
    runtime: Runtime,
    did: str,
    list_type: ListType,
    name: str,
    *,
    session_id: str | None = None,
    track_ids: list[int] | None = None,
) -> MusicList:
    if list_type == ListType.liked:
        raise ServiceError(422, "invalid_type", "the liked list is kept by likes")
    cleaned = _clean_name(name)
    async with runtime.sessions() as db:
        row = MusicList(
            did=did,
            list_type=list_type,
            name=cleaned,
            unique_key=album_key(cleaned) if list_type == ListType.album else None,
            rkey=next_tid(),
        )
        db.add(row)
        try:
            await db.flush()
        except IntegrityError:
            raise ServiceError(
                409, "exists", f"you already have an album called “{cleaned}”"
            ) from None
        for track_id in track_ids or []:
            await _append(db, row, track_id, did)
        await sync.changed(db, row, session_id)
        await db.commit()
        db.expunge(row)
        return row


async def rename_list(
    runtime: Runtime, list_id: int, did: str, name: str, session_id: str | None = None
) -> MusicList:
    cleaned = _clean_name(name)
    async with runtime.sessions() as db:
        row = await owned_list(db, list_id, did)
        if row.list_type == ListType.liked:
            raise ServiceError(422, "invalid_type", "the liked list cannot be renamed")
        row.name = cleaned
        if row.list_type == ListType.album:
            row.unique_key = album_key(cleaned)
        row.updated_at = utcnow()
        try:
            await sync.changed(db, row, session_id)
        except IntegrityError:
            raise ServiceError(
                409, "exists", f"you already have an album called “{cleaned}”"
            ) from None
        if row.list_type == ListType.album:
            await _rename_album_on_tracks(db, row, cleaned)
        await db.commit()
        db.expunge(row)
        return row


async def _rename_album_on_tracks(db: AsyncSession, row: MusicList, name: str) -> None:
    """An album's tracks carry its name in their own records: republish the ones that differ."""
    track_ids = await db.scalars(select(ListItem.track_id).where(ListItem.list_id == row.id))
    for track_id in list(track_ids):
        if track_id is not None:
            await _set_track_album(db, track_id, name)


async def delete_list(
    runtime: Runtime, list_id: int, did: str, session_id: str | None = None
) -> None:
    """Delete the list; its record and its unused cover files go in jobs."""
    async with runtime.sessions() as db:
        row = await owned_list(db, list_id, did)
        if row.list_type == ListType.liked:
            raise ServiceError(422, "invalid_type", "unlike tracks to empty the liked list")
        keys = [key for key in (row.image_key, row.thumbnail_key) if key]
        rkey = row.rkey
        await db.delete(row)
        await sync.removed(db, "list", did, rkey, session_id)
        await _drop_files_later(db, did, keys)
        await db.commit()


async def _append(db: AsyncSession, row: MusicList, track_id: int, did: str) -> ListItem:
    track = await db.get(Track, track_id)
    if track is None:
        raise ServiceError(404, "not_found", "no such track")
    if row.list_type == ListType.album and track.artist_did != did:
        raise ServiceError(403, "forbidden", "an album holds its artist's own tracks")
    count = await db.scalar(select(func.count(ListItem.id)).where(ListItem.list_id == row.id))
    if (count or 0) >= MAX_ITEMS:
        raise ServiceError(422, "list_full", f"a list holds at most {MAX_ITEMS} entries")
    last = await db.scalar(select(func.max(ListItem.position)).where(ListItem.list_id == row.id))
    item = ListItem(
        list_id=row.id,
        position=(last if last is not None else -1) + 1,
        subject_uri=track.atproto_uri or f"plyr:track:{track.id}",
        subject_cid=track.atproto_cid,
        track_id=track.id,
    )
    db.add(item)
    await db.flush()
    return item


async def add_track(
    runtime: Runtime, list_id: int, did: str, track_id: int, session_id: str | None = None
) -> ListItem:
    async with runtime.sessions() as db:
        row = await owned_list(db, list_id, did)
        if row.list_type == ListType.liked:
            raise ServiceError(422, "invalid_type", "like the track to add it to liked")
        if row.list_type == ListType.album and any(i.track_id == track_id for i in row.items):
            raise ServiceError(409, "exists", "the track is already on this album")
        item = await _append(db, row, track_id, did)
        if row.list_type == ListType.album:
            await _set_track_album(db, track_id, row.name)
        row.updated_at = utcnow()
        await sync.changed(db, row, session_id)
        await db.commit()
        db.expunge(item)
        return item


async def remove_item(
    runtime: Runtime, list_id: int, did: str, item_id: int, session_id: str | None = None
) -> None:
    async with runtime.sessions() as db:
        row = await owned_list(db, list_id, did)
        item = next((i for i in row.items if i.id == item_id), None)
        if item is None:
            raise ServiceError(404, "not_found", "no such entry in this list")
        if row.list_type == ListType.liked:
            raise ServiceError(422, "invalid_type", "unlike the track to take it off liked")
        if row.list_type == ListType.album and item.track_id is not None:
            await _set_track_album(db, item.track_id, None)
        row.items.remove(item)
        row.updated_at = utcnow()
        await sync.changed(db, row, session_id)
        await db.commit()


async def _set_track_album(db: AsyncSession, track_id: int, name: str | None) -> None:
    """Give a track its album's name; its record is rewritten by the publish job."""
    track = await db.get(Track, track_id)
    if track is None or track.album == name:
        return
    track.album = name
    if track.publish_state != PublishState.processing:
        track.publish_state = PublishState.publishing
        await enqueue(db, "track.publish", {"track_id": track_id}, dedupe_key=f"publish:{track_id}")


async def reorder(
    runtime: Runtime, list_id: int, did: str, item_ids: list[int], session_id: str | None = None
) -> None:
    """Put the entries in the given order; it must name every entry exactly once."""
    async with runtime.sessions() as db:
        row = await owned_list(db, list_id, did)
        if sorted(item_ids) != sorted(i.id for i in row.items):
            raise ServiceError(
                409, "stale_order", "the list changed meanwhile: reload it and try again"
            )
        position = {item_id: index for index, item_id in enumerate(item_ids)}
        for item in row.items:
            item.position = position[item.id]
        row.updated_at = utcnow()
        await sync.changed(db, row, session_id)
        await db.commit()


async def _drop_files_later(db: AsyncSession, did: str, keys: list[str]) -> None:
    """Stored images the list no longer shows go in a job, in the caller's transaction;
    the job keeps whatever another track or list still shows (files are shared by content)."""
    if keys:
        await enqueue(db, "track.delete", {"did": did, "rkey": None, "keys": keys})


async def set_cover(runtime: Runtime, list_id: int, did: str, picture: Path, work: Path) -> None:
    """Store new cover art (checked and normalised like track artwork); the replaced files
    are cleaned up by a job."""
    async with runtime.sessions() as db:
        await owned_list(db, list_id, did)
    try:
        await anyio.to_thread.run_sync(sniff_image, picture)
        artwork = await anyio.to_thread.run_sync(process_artwork, picture, work)
    except (UnsupportedImage, UnsafeImage) as exc:
        raise ServiceError(415, "unsupported_image", str(exc)) from exc
    image_key, thumb_key = await store_artwork(runtime.storage, artwork)
    async with runtime.sessions() as db:
        row = await db.get(MusicList, list_id)
        if row is None or row.did != did:  # deleted while the image was processed
            await _drop_files_later(db, did, [image_key, thumb_key])
            await db.commit()
            raise ServiceError(404, "not_found", "no such list")
        new = {image_key, thumb_key}
        old = [k for k in (row.image_key, row.thumbnail_key) if k and k not in new]
        row.image_key, row.thumbnail_key = image_key, thumb_key
        row.updated_at = utcnow()
        await _drop_files_later(db, did, old)
        await db.commit()


# --- albums from track fields -------------------------------------------------------------


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
            name=_display_name(album),
            unique_key=wanted,
            rkey=next_tid(),
        )
        db.add(target)
        await db.flush()
    await _append(db, target, track_id, did)
    target.updated_at = utcnow()
    await sync.changed(db, target, session_id)


async def lists_holding(db: AsyncSession, track_id: int) -> list[MusicList]:
    rows = await db.execute(
        select(MusicList).where(
            MusicList.id.in_(select(ListItem.list_id).where(ListItem.track_id == track_id))
        )
    )
    return list(rows.scalars())


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


async def liked_list_id(runtime: Runtime, did: str) -> int | None:
    """The user's liked list, if a like has made it."""
    async with runtime.sessions() as db:
        return await db.scalar(
            select(MusicList.id).where(MusicList.did == did, MusicList.list_type == ListType.liked)
        )


async def liked_list(db: AsyncSession, did: str) -> MusicList:
    """The user's one liked list, made on first use."""
    row = await db.scalar(
        select(MusicList).where(MusicList.did == did, MusicList.list_type == ListType.liked)
    )
    if row is None:
        row = MusicList(
            did=did, list_type=ListType.liked, name="liked", unique_key="liked", rkey=next_tid()
        )
        db.add(row)
        await db.flush()
    return row
