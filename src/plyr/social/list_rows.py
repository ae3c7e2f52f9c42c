"""The rows behind a list, for the list operations and the album rules: finding a list and
checking its owner, names as the lexicon allows them, appending a track, the liked list,
and a track's album field. Functions taking a session act inside the caller's transaction."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from plyr.atproto.lexicon import grapheme_length
from plyr.atproto.tid import next_tid
from plyr.db.models import ListItem, ListType, MusicList, PublishState, Track
from plyr.db.text import require_storable
from plyr.db.visibility import require_listed
from plyr.errors import ServiceError
from plyr.jobs.queue import enqueue
from plyr.runtime import Runtime

MAX_ITEMS = 500  # the lexicon's limit
MAX_NAME = 256
MAX_NAME_GRAPHEMES = 64  # the lexicon's other limit on `name`: a longer one fails to publish


def clean_name(name: str | None) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ServiceError(422, "invalid_name", "give the list a name")
    require_storable("name", cleaned)
    if len(cleaned.encode()) > MAX_NAME or grapheme_length(cleaned) > MAX_NAME_GRAPHEMES:
        raise ServiceError(
            422, "invalid_name", f"names are at most {MAX_NAME_GRAPHEMES} characters"
        )
    return cleaned


def display_name(name: str) -> str:
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


async def append_track(db: AsyncSession, row: MusicList, track_id: int, did: str) -> ListItem:
    track = await db.get(Track, track_id)
    if track is None:
        raise ServiceError(404, "not_found", "no such track")
    await require_listed(db, track, did)
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


async def set_track_album(db: AsyncSession, track_id: int, name: str | None) -> None:
    """Give a track its album's name; its record is rewritten by the publish job."""
    track = await db.get(Track, track_id)
    if track is None or track.album == name:
        return
    track.album = name
    if track.publish_state != PublishState.processing:
        track.publish_state = PublishState.publishing
        await enqueue(db, "track.publish", {"track_id": track_id}, dedupe_key=f"publish:{track_id}")


async def drop_files_later(db: AsyncSession, did: str, keys: list[str]) -> None:
    """Stored images the list no longer shows go in a job, in the caller's transaction;
    the job keeps whatever another track or list still shows (files are shared by content)."""
    if keys:
        await enqueue(db, "track.delete", {"did": did, "rkey": None, "keys": keys})


async def lists_holding(db: AsyncSession, track_id: int) -> list[MusicList]:
    rows = await db.execute(
        select(MusicList).where(
            MusicList.id.in_(select(ListItem.list_id).where(ListItem.track_id == track_id))
        )
    )
    return list(rows.scalars())


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
