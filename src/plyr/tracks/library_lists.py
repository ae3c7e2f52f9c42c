"""Album lists for players (Subsonic's getAlbumList, search with an empty query): the
albums listeners may meet in one order or another, a page at a time.

Albums and songs are what `plyr.tracks.library` says they are: a song is a track
listeners may meet (`song_listed`: published, not taken down, its account not hidden, its
audio ready); an album is an album list holding a song (of an account not hidden), or a
*single*: a song filed under no album, an album of its own (`AlbumRef.kind` "album" or
"single"; `plyr.subsonic.ids` names them `al-` and `si-`). An album's moment is its first
song's `created_at`, as `library.albums` gives it.

plyr has no ratings and no release years, so some orders stand on what it does have:

| order | albums, first to last |
|---|---|
| newest | newest first |
| random | any order, new each time (the offset is ignored) |
| by_name | by name |
| by_artist | by the artist's name (display name, else handle), then name |
| most_played | most counted plays of their tracks (everyone's, `Track.play_count`) |
| most_liked | most likes of their tracks, everyone's: plyr's "highest rated" |
| recently_played | the listener's latest counted play of one of their tracks first |
| liked | the listener's latest like of one of their tracks first |
| by_year | created in the years from..to (both in), oldest first; newest first if from > to |
| by_tag | holding a track with the tag (plyr's genres are tags), by name |

most_played, most_liked, recently_played and liked leave out the albums they have nothing
to say about (no plays, no likes, not played or liked by the listener).

Ties go to the newer album (then the higher id), so an order is the same every time the
library is: offsets page through it without skipping or repeating. `by_id` is the plain
listing a player syncs from (albums by id, then singles by id).

The whole-library orders (newest, by_name, by_artist, by_id, most_played, most_liked; by_year
and random read newest's and by_id's) are sorted once and kept a few seconds per process
(`listing_cache`): with 100 000 songs, sorting for each page cost 0.2-0.7 s; a page is
now a slice. The listener's own orders and by_tag start from their few rows (the
listener's plays or likes, a tag's songs) and are asked of the database every time.
"""

from __future__ import annotations

import random
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.selectable import Subquery

from plyr.db.models import (
    Artist,
    Like,
    ListItem,
    ListType,
    MusicList,
    Play,
    Tag,
    Track,
    TrackTag,
)
from plyr.db.text import storable
from plyr.db.visibility import account_listed
from plyr.runtime import Runtime
from plyr.tracks.library import not_in_album, own_album_item, song_listed
from plyr.tracks.listing_cache import cached

AlbumOrder = Literal[
    "newest",
    "random",
    "by_name",
    "by_artist",
    "most_played",
    "most_liked",
    "recently_played",
    "liked",
    "by_year",
    "by_tag",
    "by_id",
]
CachedOrder = Literal["newest", "by_name", "by_artist", "by_id", "most_played", "most_liked"]
CACHED_ORDERS: tuple[CachedOrder, ...] = (
    "newest",
    "by_name",
    "by_artist",
    "by_id",
    "most_played",
    "most_liked",
)
AlbumKind = Literal["album", "single"]
MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class AlbumRef:
    kind: AlbumKind  # an album list, or a single (a track in no album)
    id: int  # the list's id, or the single's track id


def _album_lists() -> ColumnElement[bool]:
    return and_(MusicList.list_type == ListType.album, account_listed(MusicList.did))


def _album_has_songs() -> ColumnElement[bool]:
    return (
        select(ListItem.id)
        .join(Track, Track.id == ListItem.track_id)
        .where(ListItem.list_id == MusicList.id, own_album_item(), song_listed())
        .exists()
    )


def _first_song() -> Any:
    """When the album's first song came (the album's `created`, as `library.albums` says)."""
    return (
        select(func.min(Track.created_at))
        .join(ListItem, ListItem.track_id == Track.id)
        .where(ListItem.list_id == MusicList.id, own_album_item(), song_listed())
        .scalar_subquery()
    )


def _entries() -> Subquery:
    """Every album and single: kind, ref, name, owner, created_at."""
    albums = select(
        literal("album", String).label("kind"),
        MusicList.id.label("ref"),
        func.coalesce(MusicList.name, "").label("name"),
        MusicList.did.label("did"),
        _first_song().label("created_at"),
    ).where(_album_lists(), _album_has_songs())
    singles = select(
        literal("single", String).label("kind"),
        Track.id.label("ref"),
        Track.title.label("name"),
        Track.artist_did.label("did"),
        Track.created_at.label("created_at"),
    ).where(song_listed(), not_in_album())
    return union_all(albums, singles).subquery("entries")


def _members() -> Subquery:
    """Which album or single each track is in: kind, ref, track_id (listed tracks only)."""
    in_albums = (
        select(
            literal("album", String).label("kind"),
            ListItem.list_id.label("ref"),
            ListItem.track_id.label("track_id"),
        )
        .join(MusicList, MusicList.id == ListItem.list_id)
        .join(Track, Track.id == ListItem.track_id)
        .where(_album_lists(), own_album_item(), song_listed())
    )
    singles = select(
        literal("single", String).label("kind"),
        Track.id.label("ref"),
        Track.id.label("track_id"),
    ).where(song_listed(), not_in_album())
    return union_all(in_albums, singles).subquery("members")


def year_range(first: int, last: int) -> tuple[datetime, datetime]:
    """From the start of the earlier year to the start of the year after the later one."""
    low, high = sorted((first, last))
    low, high = max(1, min(low, 9998)), max(1, min(high, 9998))
    return datetime(low, 1, 1, tzinfo=UTC), datetime(high + 1, 1, 1, tzinfo=UTC)


def _scored(score: Any, *joined: tuple[Any, ColumnElement[bool]]) -> Select[Any]:
    """Every album and single by a score over its songs (and the rows `joined` to them)."""
    members = _members()
    query = (
        select(members.c.kind, members.c.ref, score.label("score"))
        .select_from(members)
        .join(Track, Track.id == members.c.track_id)
    )
    for table, on in joined:
        query = query.join(table, on)
    ranked = query.group_by(members.c.kind, members.c.ref).subquery("scores")
    return (
        select(ranked.c.kind, ranked.c.ref)
        .where(ranked.c.score > 0)
        .order_by(ranked.c.score.desc(), ranked.c.kind, ranked.c.ref.desc())
    )


def _whole_library(order: CachedOrder) -> Select[Any]:
    """Every album and single in a whole-library order; newest also gives `created_at`."""
    if order == "most_played":
        return _scored(func.sum(Track.play_count))
    if order == "most_liked":
        return _scored(func.count(Like.id), (Like, Like.track_id == Track.id))
    entries = _entries()
    newest = (entries.c.created_at.desc(), entries.c.kind, entries.c.ref.desc())
    if order == "newest":
        return select(entries.c.kind, entries.c.ref, entries.c.created_at).order_by(*newest)
    query = select(entries.c.kind, entries.c.ref)
    if order == "by_name":
        return query.order_by(func.lower(entries.c.name), *newest)
    if order == "by_artist":
        artist_name = func.lower(func.coalesce(Artist.display_name, Artist.handle))
        return query.join(Artist, Artist.did == entries.c.did).order_by(
            artist_name, func.lower(entries.c.name), *newest
        )
    return query.order_by(entries.c.kind, entries.c.ref)  # by_id


@dataclass(frozen=True, slots=True)
class Ordering:
    """A whole-library order as integers: a list id for an album, minus the track id for
    a single; for newest, minus each one's moment (seconds), ascending along the order."""

    refs: array[int]
    moments: array[float] | None = None

    def refs_at(self, start: int, stop: int, *, backwards: bool = False) -> list[AlbumRef]:
        part = self.refs[start:stop]
        return [_ref(value) for value in (reversed(part) if backwards else part)]


async def _listed_page(
    runtime: Runtime, ordering: Ordering, offset: int, limit: int
) -> list[AlbumRef]:
    """`limit` refs from `offset` that are still albums or singles: one gone since the
    order was read (a takedown in another process) is skipped and the page filled from past
    it, as players stop syncing at the first short page."""
    found: list[AlbumRef] = []
    start = offset
    while len(found) < limit and start < len(ordering.refs):
        part = ordering.refs_at(start, start + limit - len(found))
        start += len(part)
        albums = [ref.id for ref in part if ref.kind == "album"]
        singles = [ref.id for ref in part if ref.kind == "single"]
        async with runtime.sessions() as db:
            kept = {
                AlbumRef("album", int(ref))
                for ref in (
                    await db.execute(
                        select(MusicList.id).where(
                            MusicList.id.in_(albums), _album_lists(), _album_has_songs()
                        )
                    )
                ).scalars()
            } | {
                AlbumRef("single", int(ref))
                for ref in (
                    await db.execute(
                        select(Track.id).where(Track.id.in_(singles), song_listed(), not_in_album())
                    )
                ).scalars()
            }
        found += [ref for ref in part if ref in kept]
    return found


def _ref(value: int) -> AlbumRef:
    return AlbumRef("album", value) if value > 0 else AlbumRef("single", -value)


async def _ordering(runtime: Runtime, order: CachedOrder) -> Ordering:
    async def build() -> Ordering:
        refs: array[int] = array("q")
        moments: array[float] | None = array("d") if order == "newest" else None
        async with runtime.sessions() as db:
            for row in await db.execute(_whole_library(order)):
                refs.append(int(row[1]) if row[0] == "album" else -int(row[1]))
                if moments is not None:
                    moments.append(-_moment(row[2]))
        return Ordering(refs, moments)

    return await cached(runtime, ("albums", order), build)


def _moment(value: datetime | str) -> float:
    """A timestamp of a `created_at` read through a union (SQLite gives the stored text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


# --- the listener's own orders and tags: from their (few) rows to the albums -----------


def _of_tracks(picked: Subquery) -> Select[Any]:
    """The albums and singles of the songs `picked` names (its `track_id`, `score`), each
    once with its best score and its name. A song's album is its oldest album list (as
    `library` places it); one whose album is a hidden account's belongs to none."""
    album = (
        select(func.min(ListItem.list_id))
        .join(MusicList, MusicList.id == ListItem.list_id)
        .where(ListItem.track_id == Track.id, own_album_item())
        .scalar_subquery()
    )
    placed = (
        select(picked.c.track_id, picked.c.score, album.label("list_id"))
        .join(Track, Track.id == picked.c.track_id)
        .where(song_listed())
        .subquery("placed")
    )
    kind = case((placed.c.list_id.is_(None), literal("single", String)), else_=literal("album"))
    ref = func.coalesce(placed.c.list_id, placed.c.track_id)
    name = func.coalesce(MusicList.name, Track.title)
    return (
        select(
            kind.label("kind"),
            ref.label("ref"),
            func.max(placed.c.score).label("score"),
            func.max(name).label("name"),
        )
        .join(Track, Track.id == placed.c.track_id)
        .outerjoin(MusicList, MusicList.id == placed.c.list_id)
        .where(or_(placed.c.list_id.is_(None), account_listed(MusicList.did)))
        .group_by(kind, ref)
    )


def _picked(order: AlbumOrder, listener_did: str, tag: str) -> Subquery:
    """The songs an order starts from (`track_id`) and their `score`."""
    if order == "recently_played":
        return (
            select(Play.track_id.label("track_id"), func.max(Play.created_at).label("score"))
            .where(Play.listener_did == listener_did)
            .group_by(Play.track_id)
            .subquery("picked")
        )
    if order == "liked":
        return (
            select(Like.track_id.label("track_id"), Like.created_at.label("score"))
            .where(Like.did == listener_did)
            .subquery("picked")
        )
    return (  # by_tag
        select(TrackTag.track_id.label("track_id"), literal(0).label("score"))
        .join(Tag, Tag.id == TrackTag.tag_id)
        .where(Tag.name == tag)
        .subquery("picked")
    )


def _picked_query(order: AlbumOrder, listener_did: str, tag: str) -> Select[Any]:
    found = _of_tracks(_picked(order, listener_did, tag)).subquery("found")
    query = select(found.c.kind, found.c.ref)
    if order == "by_tag":
        return query.order_by(func.lower(found.c.name), found.c.kind, found.c.ref.desc())
    return query.order_by(found.c.score.desc(), found.c.kind, found.c.ref.desc())


async def album_page(
    runtime: Runtime,
    order: AlbumOrder,
    *,
    limit: int,
    offset: int = 0,
    listener_did: str | None = None,
    years: tuple[int, int] | None = None,
    tag: str | None = None,
) -> list[AlbumRef]:
    """A page of albums and singles in `order` (see the module's table): `listener_did` for
    the listener's own orders, `years` (from, to) for by_year, `tag` for by_tag."""
    limit = max(0, min(limit, MAX_PAGE))
    offset = max(0, offset)
    if limit == 0:
        return []
    if order in CACHED_ORDERS:
        return await _listed_page(runtime, await _ordering(runtime, order), offset, limit)
    if order == "random":
        every = await _ordering(runtime, "by_id")
        picks = random.sample(range(len(every.refs)), min(limit, len(every.refs)))
        return [_ref(every.refs[i]) for i in picks]
    if order == "by_year":
        first, last = years or (1, 9998)
        start, end = year_range(first, last)
        newest = await _ordering(runtime, "newest")
        assert newest.moments is not None
        low = bisect_right(newest.moments, -end.timestamp())
        high = bisect_right(newest.moments, -start.timestamp())
        if first > last:  # newest first
            return newest.refs_at(low + offset, min(high, low + offset + limit))
        stop = max(low, high - offset)  # oldest first: from the end of the range backwards
        return newest.refs_at(max(low, stop - limit), stop, backwards=True)
    if order in ("recently_played", "liked") and listener_did is None:
        return []
    if order == "by_tag" and not (tag and storable(tag)):
        return []
    query = _picked_query(order, listener_did or "", tag or "").offset(offset).limit(limit)
    async with runtime.sessions() as db:
        rows = (await db.execute(query)).all()
    return [AlbumRef(kind, int(ref)) for kind, ref in rows]
