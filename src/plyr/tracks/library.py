"""The library as players browse it (Subsonic's songs and albums): batches of songs with
everything a listing shows of each, and albums, in a fixed number of queries whatever the
number of songs (a list of 500 is not 500 queries).

A song is a track listeners may meet (`db.visibility.track_listed`: audio ready, not taken
down, account not hidden) whose record is in its artist's PDS (`atproto_uri`: published
once; a re-publish after an edit keeps it listed). An album is an artist's album list
(`social.albums`) holding at least one song, its songs in the list's order, numbered
1, 2, 3… among the songs (an unlisted track leaves no gap); a song in no album is a
*single*, an album of its own named after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from plyr.db.models import Artist, Like, ListItem, ListType, MusicList, Play, Tag, Track, TrackTag
from plyr.db.visibility import account_hidden, track_listed
from plyr.runtime import Runtime


def song_listed() -> ColumnElement[bool]:
    """A track players may list: published once and one listeners may meet."""
    return and_(Track.atproto_uri.is_not(None), track_listed())


@dataclass(frozen=True, slots=True)
class Person:
    did: str
    name: str


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a song sits: its album list and its number there (1-based among songs)."""

    list_id: int
    name: str
    number: int


@dataclass(frozen=True, slots=True)
class Song:
    track: Track  # detached
    artist: Artist  # detached
    album: Placement | None  # None: a single
    album_cover_track: int | None  # the album's first song with artwork (for songs without)
    album_has_cover: bool  # the album list has a cover of its own
    tags: list[str]
    features: list[Person]  # featured artists plyr may show
    liked_at: datetime | None  # when the viewer liked it
    played_at: datetime | None  # the viewer's last counted play


@dataclass(frozen=True, slots=True)
class Album:
    """An album list with songs, or a single (`list_id` None, `single_track` its track)."""

    list_id: int | None
    single_track: int | None
    name: str
    artist: Artist  # detached
    song_count: int
    duration: int
    play_count: int
    created: datetime  # its first song's
    changed: datetime
    cover_track: int | None  # the first song with artwork
    has_cover: bool  # the list's own cover
    description: str | None
    tags: list[str] = field(default_factory=list)  # its songs' tags, most used first


def artist_name(artist: Artist) -> str:
    return artist.display_name or artist.handle


# --- songs -------------------------------------------------------------------------------


async def songs(runtime: Runtime, viewer_did: str | None, track_ids: Sequence[int]) -> list[Song]:
    """The songs of these track ids, in the order given (each once); tracks that are not
    songs are left out."""
    wanted = list(dict.fromkeys(track_ids))
    if not wanted:
        return []
    async with runtime.sessions() as db:
        rows = (
            await db.execute(
                select(Track, Artist)
                .join(Artist, Artist.did == Track.artist_did)
                .where(Track.id.in_(wanted), song_listed())
            )
        ).all()
        found = {track.id: (track, artist) for track, artist in rows}
        ids = list(found)
        placements = await _placements(db, ids)
        covers = await _album_covers(db, {p.list_id for p in placements.values()})
        tags = await _tags(db, ids)
        liked = await _liked(db, viewer_did, ids)
        played = await _played(db, viewer_did, ids)
        features = await _features(db, [track for track, _ in found.values()])
        db.expunge_all()
    out = []
    for track_id in wanted:
        if track_id not in found:
            continue
        track, artist = found[track_id]
        placement = placements.get(track_id)
        cover_track, has_cover = (
            covers.get(placement.list_id, (None, False)) if placement else (None, False)
        )
        out.append(
            Song(
                track=track,
                artist=artist,
                album=placement,
                album_cover_track=cover_track,
                album_has_cover=has_cover,
                tags=tags.get(track_id, []),
                features=features.get(track_id, []),
                liked_at=liked.get(track_id),
                played_at=played.get(track_id),
            )
        )
    return out


def own_album_item(track: Any = Track) -> ColumnElement[bool]:
    """An album list's entry (joined to `MusicList` and `track`) that is the list owner's
    own track: the indexer takes any account's album list naming anyone's tracks, and
    another account's album must not take a song from its artist."""
    return and_(MusicList.list_type == ListType.album, track.artist_did == MusicList.did)


def album_items() -> Select[int, int | None, int, int]:
    """(list id, track id, position, item id) of every album entry holding a song."""
    return (
        select(ListItem.list_id, ListItem.track_id, ListItem.position, ListItem.id)
        .join(MusicList, MusicList.id == ListItem.list_id)
        .join(Track, Track.id == ListItem.track_id)
        .where(own_album_item(), song_listed())
    )


async def _placements(db: AsyncSession, track_ids: list[int]) -> dict[int, Placement]:
    """Each song's album and number, from the songs of the albums holding them (one query:
    a window numbers each album's songs)."""
    if not track_ids:
        return {}
    albums_of = (
        select(ListItem.list_id)
        .join(MusicList, MusicList.id == ListItem.list_id)
        .join(Track, Track.id == ListItem.track_id)
        .where(ListItem.track_id.in_(track_ids), own_album_item())
    )
    entries = album_items().where(ListItem.list_id.in_(albums_of)).subquery()
    number = func.row_number().over(
        partition_by=entries.c.list_id, order_by=(entries.c.position, entries.c.id)
    )
    numbered = select(entries.c.list_id, entries.c.track_id, number.label("number")).subquery()
    rows = await db.execute(
        select(numbered.c.track_id, numbered.c.list_id, numbered.c.number, MusicList.name)
        .join(MusicList, MusicList.id == numbered.c.list_id)
        .where(numbered.c.track_id.in_(track_ids))
        .order_by(numbered.c.list_id)
    )
    found: dict[int, Placement] = {}
    for track_id, list_id, position, name in rows:
        # A track in two albums (another client's lists) is on the oldest.
        found.setdefault(track_id, Placement(list_id, name or "", int(position)))
    return found


async def _album_covers(
    db: AsyncSession, list_ids: Iterable[int]
) -> dict[int, tuple[int | None, bool]]:
    """Per album: its first song with artwork, and whether the list has a cover."""
    ids = list(list_ids)
    if not ids:
        return {}
    rows = await db.execute(select(MusicList.id, MusicList.image_key).where(MusicList.id.in_(ids)))
    found: dict[int, tuple[int | None, bool]] = {
        list_id: (None, key is not None) for list_id, key in rows
    }
    art = await db.execute(
        album_items()
        .where(ListItem.list_id.in_(ids), Track.image_key.is_not(None))
        .order_by(ListItem.list_id, ListItem.position, ListItem.id)
    )
    for list_id, track_id, _position, _item in art:
        cover, has_cover = found.get(list_id, (None, False))
        if cover is None and track_id is not None:
            found[list_id] = (track_id, has_cover)
    return found


async def _tags(db: AsyncSession, track_ids: list[int]) -> dict[int, list[str]]:
    rows = await db.execute(
        select(TrackTag.track_id, Tag.name)
        .join(Tag, Tag.id == TrackTag.tag_id)
        .where(TrackTag.track_id.in_(track_ids))
        .order_by(TrackTag.track_id, TrackTag.position)
    )
    found: dict[int, list[str]] = {}
    for track_id, name in rows:
        found.setdefault(track_id, []).append(name)
    return found


async def _liked(
    db: AsyncSession, viewer_did: str | None, track_ids: list[int]
) -> dict[int, datetime]:
    if viewer_did is None or not track_ids:
        return {}
    rows = await db.execute(
        select(Like.track_id, Like.created_at).where(
            Like.did == viewer_did, Like.track_id.in_(track_ids)
        )
    )
    return {track_id: at for track_id, at in rows}


async def _played(
    db: AsyncSession, viewer_did: str | None, track_ids: list[int]
) -> dict[int, datetime]:
    if viewer_did is None or not track_ids:
        return {}
    rows = await db.execute(
        select(Play.track_id, func.max(Play.created_at))
        .where(Play.listener_did == viewer_did, Play.track_id.in_(track_ids))
        .group_by(Play.track_id)
    )
    return {track_id: at for track_id, at in rows if at is not None}


async def _features(db: AsyncSession, tracks: list[Track]) -> dict[int, list[Person]]:
    """Featured artists as the records name them, less accounts an operator hid."""
    named = {
        track.id: [f for f in track.features or [] if isinstance(f.get("did"), str)]
        for track in tracks
    }
    dids = {f["did"] for features in named.values() for f in features}
    if not dids:
        return {}
    hidden = set(
        (
            await db.execute(
                select(Artist.did).where(Artist.did.in_(sorted(dids)), account_hidden(Artist.did))
            )
        ).scalars()
    )
    return {
        track_id: [
            Person(f["did"], str(f.get("displayName") or f.get("handle") or f["did"]))
            for f in features
            if f["did"] not in hidden
        ]
        for track_id, features in named.items()
        if features
    }


# --- albums ------------------------------------------------------------------------------


async def albums(runtime: Runtime, list_ids: Sequence[int]) -> list[Album]:
    """The albums of these list ids that hold songs, in the order given."""
    wanted = list(dict.fromkeys(list_ids))
    if not wanted:
        return []
    async with runtime.sessions() as db:
        found = await _albums(db, wanted)
        db.expunge_all()
    return [found[list_id] for list_id in wanted if list_id in found]


async def _albums(db: AsyncSession, list_ids: list[int]) -> dict[int, Album]:
    entries = album_items().where(ListItem.list_id.in_(list_ids)).subquery()
    totals = await db.execute(
        select(
            entries.c.list_id,
            func.count(),
            func.coalesce(func.sum(Track.duration_seconds), 0),
            func.coalesce(func.sum(Track.play_count), 0),
            func.min(Track.created_at),
            func.max(Track.updated_at),
        )
        .join(Track, Track.id == entries.c.track_id)
        .group_by(entries.c.list_id)
    )
    sums = {row[0]: row[1:] for row in totals}
    if not sums:
        return {}
    lists = await db.execute(
        select(MusicList, Artist)
        .join(Artist, Artist.did == MusicList.did)
        .where(MusicList.id.in_(list(sums)))
    )
    covers = await _album_covers(db, list(sums))
    tags = await _album_tags(db, list(sums))
    found: dict[int, Album] = {}
    for row, artist in lists:
        count, duration, plays, created, changed = sums[row.id]
        found[row.id] = Album(
            list_id=row.id,
            single_track=None,
            name=row.name or "",
            artist=artist,
            song_count=int(count),
            duration=int(duration),
            play_count=int(plays),
            created=created,
            changed=max(changed, row.updated_at),
            cover_track=covers.get(row.id, (None, False))[0],
            has_cover=row.image_key is not None,
            description=row.description,
            tags=tags.get(row.id, []),
        )
    return found


async def _album_tags(db: AsyncSession, list_ids: list[int]) -> dict[int, list[str]]:
    entries = album_items().where(ListItem.list_id.in_(list_ids)).subquery()
    uses = func.count()
    rows = await db.execute(
        select(entries.c.list_id, Tag.name, uses)
        .join(TrackTag, TrackTag.track_id == entries.c.track_id)
        .join(Tag, Tag.id == TrackTag.tag_id)
        .group_by(entries.c.list_id, Tag.name)
        .order_by(entries.c.list_id, uses.desc(), func.min(TrackTag.position), Tag.name)
    )
    found: dict[int, list[str]] = {}
    for list_id, name, _uses in rows:
        found.setdefault(list_id, []).append(name)
    return found


async def albums_by_ref(
    runtime: Runtime, viewer_did: str | None, refs: Sequence[tuple[str, int]]
) -> list[Album]:
    """Albums named `("album", list id)` or `("single", track id)`, in the order given;
    those without songs (or singles that are not) left out."""
    list_ids = [key for kind, key in refs if kind == "album"]
    track_ids = [key for kind, key in refs if kind == "single"]
    found: dict[tuple[str, int], Album] = {
        ("album", album.list_id): album
        for album in await albums(runtime, list_ids)
        if album.list_id is not None
    }
    for song in await songs(runtime, viewer_did, track_ids):
        if song.album is None:
            found[("single", song.track.id)] = single(song)
    return [found[ref] for ref in refs if ref in found]


def single(song: Song) -> Album:
    """A song in no album as the album of its own."""
    track = song.track
    return Album(
        list_id=None,
        single_track=track.id,
        name=track.title,
        artist=song.artist,
        song_count=1,
        duration=track.duration_seconds or 0,
        play_count=track.play_count,
        created=track.created_at,
        changed=track.updated_at,
        cover_track=track.id if track.image_key else None,
        has_cover=False,
        description=track.description,
        tags=list(song.tags),
    )


async def album_song_ids(runtime: Runtime, list_id: int) -> list[int]:
    """The songs of an album, in its order."""
    async with runtime.sessions() as db:
        rows = await db.execute(
            album_items()
            .where(ListItem.list_id == list_id)
            .order_by(ListItem.position, ListItem.id)
        )
        found = (track_id for _list, track_id, _pos, _id in rows if track_id is not None)
        return list(dict.fromkeys(found))


def not_in_album() -> ColumnElement[bool]:
    """A track on no album list (a single)."""
    placed = aliased(Track)  # not the outer query's Track
    on_albums = (
        select(ListItem.track_id)
        .join(MusicList, MusicList.id == ListItem.list_id)
        .join(placed, placed.id == ListItem.track_id)
        .where(own_album_item(placed))
    )
    return Track.id.not_in(on_albums)
