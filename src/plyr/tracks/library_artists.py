"""The library's artists and genres as players browse them (Subsonic's indexes, artists,
genres, similar artists): artists with at least one song (`library.song_listed`), how many
albums each has (album lists with songs, and singles), tags as genres with their counts,
and when any of it last changed."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from plyr.db.models import Artist, ListItem, ListType, MusicList, Tag, Track, TrackTag
from plyr.runtime import Runtime
from plyr.tracks.library import (
    Album,
    albums,
    not_in_album,
    own_album_item,
    single,
    song_listed,
    songs,
)


@dataclass(frozen=True, slots=True)
class LibraryArtist:
    artist: Artist  # detached
    album_count: int  # albums with songs, and singles
    song_count: int


async def _album_counts(db: AsyncSession, dids: Sequence[str] | None) -> dict[str, int]:
    albums = (
        select(MusicList.did, func.count(func.distinct(MusicList.id)))
        .join(ListItem, ListItem.list_id == MusicList.id)
        .join(Track, Track.id == ListItem.track_id)
        .where(own_album_item())
        .where(song_listed())
        .group_by(MusicList.did)
    )
    singles = (
        select(Track.artist_did, func.count())
        .where(song_listed(), not_in_album())
        .group_by(Track.artist_did)
    )
    if dids is not None:
        albums = albums.where(MusicList.did.in_(dids))
        singles = singles.where(Track.artist_did.in_(dids))
    counts: dict[str, int] = {}
    for did, count in [*(await db.execute(albums)), *(await db.execute(singles))]:
        counts[did] = counts.get(did, 0) + int(count)
    return counts


async def library_artists(
    runtime: Runtime, dids: Sequence[str] | None = None
) -> list[LibraryArtist]:
    """Every artist with songs (or those of `dids` that have some), in no set order."""
    async with runtime.sessions() as db:
        songs = select(Track.artist_did, func.count()).where(song_listed())
        if dids is not None:
            songs = songs.where(Track.artist_did.in_(list(dids)))
        song_counts = dict(
            (did, int(n)) for did, n in await db.execute(songs.group_by(Track.artist_did))
        )
        if not song_counts:
            return []
        album_counts = await _album_counts(db, list(song_counts))
        rows = await db.execute(select(Artist).where(Artist.did.in_(list(song_counts))))
        found = [
            LibraryArtist(artist, album_counts.get(artist.did, 0), song_counts[artist.did])
            for artist in rows.scalars()
        ]
        db.expunge_all()
    return found


async def library_artist(runtime: Runtime, did: str) -> LibraryArtist | None:
    """The artist, if they have songs."""
    found = await library_artists(runtime, [did])
    return found[0] if found else None


# Per database: the last contents seen (listed songs and album lists: count and id sum)
# and when this process first saw them.
_seen: weakref.WeakKeyDictionary[Any, tuple[tuple[int, ...], datetime]] = (
    weakref.WeakKeyDictionary()
)


async def library_changed_at(runtime: Runtime) -> datetime | None:
    """When a track, an artist or an album last changed (anything that may change what
    the library lists: uploads, edits, takedowns, hidden accounts, album edits), or when
    this process first saw the listed songs and albums as they are now: a deletion moves
    no `updated_at`, but it changes their count and id sum. (A new process answers its
    start once: a player re-reads the index it did not need to, it misses nothing.)"""
    async with runtime.sessions() as db:
        times = [
            await db.scalar(select(func.max(Track.updated_at))),
            await db.scalar(select(func.max(Artist.updated_at))),
            await db.scalar(
                select(func.max(MusicList.updated_at)).where(MusicList.list_type == ListType.album)
            ),
        ]
        songs_now = (
            await db.execute(
                select(func.count(), func.coalesce(func.sum(Track.id), 0)).where(song_listed())
            )
        ).one()
        lists_now = (
            await db.execute(
                select(func.count(), func.coalesce(func.sum(MusicList.id), 0)).where(
                    MusicList.list_type == ListType.album
                )
            )
        ).one()
    contents = (*(int(value) for value in songs_now), *(int(value) for value in lists_now))
    seen = _seen.get(runtime.engine)
    if seen is None or seen[0] != contents:
        seen = (contents, datetime.now(UTC))
        _seen[runtime.engine] = seen
    known = [at if at.tzinfo else at.replace(tzinfo=UTC) for at in times if at is not None]
    return max([*known, seen[1]])


@dataclass(frozen=True, slots=True)
class Genre:
    name: str
    song_count: int
    album_count: int  # albums and singles with a song of the genre


async def genres(runtime: Runtime) -> list[Genre]:
    """Tags as genres: those on songs, with how many songs and albums carry each, most
    used first."""
    placed = aliased(Track)
    album_of = (
        select(ListItem.track_id, func.min(ListItem.list_id).label("list_id"))
        .join(MusicList, MusicList.id == ListItem.list_id)
        .join(placed, placed.id == ListItem.track_id)
        .where(own_album_item(placed))
        .group_by(ListItem.track_id)
        .subquery()
    )
    song_count = func.count(func.distinct(Track.id))
    album_count = func.count(func.distinct(album_of.c.list_id)) + func.count(
        func.distinct(case((album_of.c.list_id.is_(None), Track.id)))
    )
    async with runtime.sessions() as db:
        rows = await db.execute(
            select(Tag.name, song_count, album_count)
            .join(TrackTag, TrackTag.tag_id == Tag.id)
            .join(Track, Track.id == TrackTag.track_id)
            .outerjoin(album_of, album_of.c.track_id == Track.id)
            .where(song_listed())
            .group_by(Tag.name)
            .order_by(song_count.desc(), Tag.name)
        )
        return [Genre(name, int(songs), int(albums)) for name, songs, albums in rows]


async def similar_artists(runtime: Runtime, did: str, *, limit: int) -> list[LibraryArtist]:
    """Artists whose songs share tags with this artist's, most shared tags first."""
    if limit <= 0:
        return []
    own_tags = (
        select(TrackTag.tag_id)
        .join(Track, Track.id == TrackTag.track_id)
        .where(Track.artist_did == did, song_listed())
    )
    shared = func.count(func.distinct(TrackTag.tag_id))
    async with runtime.sessions() as db:
        rows = await db.execute(
            select(Track.artist_did, shared)
            .join(TrackTag, TrackTag.track_id == Track.id)
            .where(TrackTag.tag_id.in_(own_tags), Track.artist_did != did, song_listed())
            .group_by(Track.artist_did)
            .order_by(shared.desc(), Track.artist_did)
            .limit(limit)
        )
        ranked = [other for other, _shared in rows]
    found = {entry.artist.did: entry for entry in await library_artists(runtime, ranked)}
    return [found[other] for other in ranked if other in found]


async def artist_albums(runtime: Runtime, did: str) -> list[Album]:
    """An artist's albums and singles, oldest first (by their first song)."""
    async with runtime.sessions() as db:
        list_ids = list(
            (
                await db.execute(
                    select(ListItem.list_id)
                    .join(MusicList, MusicList.id == ListItem.list_id)
                    .join(Track, Track.id == ListItem.track_id)
                    .where(
                        MusicList.did == did,
                        own_album_item(),
                        song_listed(),
                    )
                    .distinct()
                )
            ).scalars()
        )
        single_ids = list(
            (
                await db.execute(
                    select(Track.id).where(Track.artist_did == did, song_listed(), not_in_album())
                )
            ).scalars()
        )
        db.expunge_all()
    found = await albums(runtime, list_ids)
    found += [single(song) for song in await songs(runtime, None, single_ids)]
    return sorted(found, key=lambda album: (album.created, album.name))
