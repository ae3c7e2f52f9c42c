"""Albums, playlists and the liked list: ordered `fm.plyr.list` records, one per list.

Every change is committed with its sync job (see sync.py); the owner is the only one who
may change a list. Albums hold their artist's own tracks; playlists hold anyone's. The
album rules (an album follows its tracks' album field) are in albums.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import anyio
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from plyr.atproto.tid import next_tid
from plyr.db.models import Artist, ListItem, ListType, MusicList, Track, utcnow
from plyr.db.visibility import HIDDEN_MESSAGE, Unavailable, track_listed
from plyr.errors import ServiceError
from plyr.media.artwork import process_artwork
from plyr.media.errors import UnsafeImage, UnsupportedImage
from plyr.media.sniff import sniff_image
from plyr.runtime import Runtime
from plyr.social import likes, sync
from plyr.social.albums import rename_album_on_tracks

# Part of this module's interface: the API's bounds and looking a list up.
from plyr.social.list_rows import MAX_ITEMS as MAX_ITEMS
from plyr.social.list_rows import MAX_NAME as MAX_NAME
from plyr.social.list_rows import (
    album_key,
    append_track,
    clean_name,
    drop_files_later,
    owned_list,
    set_track_album,
)
from plyr.social.list_rows import get_list as get_list
from plyr.storage.artwork import store_artwork


async def visible_list(
    runtime: Runtime, list_id: int, viewer_did: str | None, *, admin: bool = False
) -> MusicList:
    """A list the viewer may see: 451 when an operator hid its owner's account (its owner
    and operators still see it), 404 for a liked list its owner keeps to themselves."""
    async with runtime.sessions() as db:
        found = (
            await db.execute(
                select(MusicList, Artist.hidden_at)
                .outerjoin(Artist, Artist.did == MusicList.did)
                .where(MusicList.id == list_id)
            )
        ).first()
        if found is None:
            raise ServiceError(404, "not_found", "no such list")
        row, hidden_at = found
        db.expunge(row)
    if hidden_at is not None and not admin and viewer_did != row.did:
        raise Unavailable(HIDDEN_MESSAGE)
    if not await likes.may_see_list(runtime, row, viewer_did):
        raise ServiceError(404, "not_found", "no such list")
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
            select(ListItem, Track, track_listed().label("listed"), MusicList.did)
            .join(MusicList, MusicList.id == ListItem.list_id)
            .outerjoin(Track, Track.id == ListItem.track_id)
            .options(selectinload(Track.artist))
            .where(ListItem.list_id == list_id)
            .order_by(ListItem.position, ListItem.id)
        )
        found = []
        for item, track, listed, owner in rows:
            if track is not None and published_only and track.atproto_uri is None:
                continue
            # A taken-down track leaves the list for everyone but its own artist's view.
            if track is not None and not listed and (published_only or track.artist_did != owner):
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
    cleaned = clean_name(name)
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
            await append_track(db, row, track_id, did)
        await sync.changed(db, row, session_id)
        await db.commit()
        db.expunge(row)
        return row


async def rename_list(
    runtime: Runtime, list_id: int, did: str, name: str, session_id: str | None = None
) -> MusicList:
    cleaned = clean_name(name)
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
            await rename_album_on_tracks(db, row, cleaned)
        await db.commit()
        db.expunge(row)
        return row


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
        await drop_files_later(db, did, keys)
        await db.commit()


async def add_track(
    runtime: Runtime, list_id: int, did: str, track_id: int, session_id: str | None = None
) -> ListItem:
    async with runtime.sessions() as db:
        row = await owned_list(db, list_id, did)
        if row.list_type == ListType.liked:
            raise ServiceError(422, "invalid_type", "like the track to add it to liked")
        if row.list_type == ListType.album and any(i.track_id == track_id for i in row.items):
            raise ServiceError(409, "exists", "the track is already on this album")
        item = await append_track(db, row, track_id, did)
        if row.list_type == ListType.album:
            await set_track_album(db, track_id, row.name)
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
            await set_track_album(db, item.track_id, None)
        row.items.remove(item)
        row.updated_at = utcnow()
        await sync.changed(db, row, session_id)
        await db.commit()


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


async def move_item(
    runtime: Runtime,
    list_id: int,
    did: str,
    item_id: int,
    by: int,
    session_id: str | None = None,
) -> None:
    """Move one entry by `by` places (the ↑ ↓ buttons); nothing moves past either end."""
    order = [entry.item_id for entry in await entries(runtime, list_id, published_only=False)]
    if item_id not in order:
        raise ServiceError(404, "not_found", "no such entry in this list")
    index = order.index(item_id)
    target = index + by
    if 0 <= target < len(order):
        order[index], order[target] = order[target], order[index]
        await reorder(runtime, list_id, did, order, session_id)


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
            await drop_files_later(db, did, [image_key, thumb_key])
            await db.commit()
            raise ServiceError(404, "not_found", "no such list")
        new = {image_key, thumb_key}
        old = [k for k in (row.image_key, row.thumbnail_key) if k and k not in new]
        row.image_key, row.thumbnail_key = image_key, thumb_key
        row.updated_at = utcnow()
        await drop_files_later(db, did, old)
        await db.commit()


async def liked_list_id(runtime: Runtime, did: str) -> int | None:
    """The user's liked list, if a like has made it."""
    async with runtime.sessions() as db:
        return await db.scalar(
            select(MusicList.id).where(MusicList.did == did, MusicList.list_type == ListType.liked)
        )
