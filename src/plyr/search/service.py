"""`search(runtime, query)`: tracks, artists, albums, playlists and tags, grouped and ranked.

The database finds candidates (`candidates.py`, one backend per dialect); the rows are
loaded and scored here, the same way for both backends (`scoring.py`), and each group is
ordered by score, then popularity (plays), then the newest first. What listeners may not
meet (a taken-down track, a hidden account's artist, lists and tracks) is left out when the
rows are loaded (`plyr.db.visibility`), so the candidates and the ranking stay as they are;
so are tracks the artist labelled `sexual` or `porn` (`plyr.tracks.labels`), unless the
searcher opted in or made them (`Audience`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.db.models import Artist, ListItem, ListType, MusicList, Tag, Track, TrackTag
from plyr.db.visibility import track_listed
from plyr.runtime import Runtime
from plyr.search.candidates import KINDS, Kind, finder_for
from plyr.search.scoring import Score, best, normalise, plain_text
from plyr.tracks.labels import hidden_from_feeds

DEFAULT_LIMIT = 8
MAX_LIMIT = 50
# Any text is a valid query: it is searched as plain text, never as query syntax. Input
# past MAX_QUERY_TEXT characters is cut off, not refused (a pasted page still searches);
# of what is left, the first MAX_QUERY characters once normalised are searched for.
MAX_QUERY_TEXT = 10_240
MAX_QUERY = 100
# A match in a secondary field (a track's artist name) counts for less than the title.
SECONDARY_WEIGHT = 0.8

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SearchHit:
    kind: str  # track | artist | album | playlist | tag
    id: str
    title: str
    subtitle: str | None
    url: str
    image_url: str | None
    score: float  # 0..1, see plyr.search.scoring
    match: str  # exact | prefix | word_prefix | substring | fuzzy
    popularity: int  # plays (tracks, an artist's or a list's tracks); tracks for a tag
    created_at: datetime | None = None
    # Stored keys and URLs of the artwork, for the sensitive-artwork check (not shown).
    images: tuple[str, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "id": self.id,
            "title": self.title,
            "subtitle": self.subtitle,
            "url": self.url,
            "image_url": self.image_url,
            "score": self.score,
            "match": self.match,
        }


@dataclass(slots=True)
class SearchResults:
    query: str
    tracks: list[SearchHit] = field(default_factory=list)
    artists: list[SearchHit] = field(default_factory=list)
    albums: list[SearchHit] = field(default_factory=list)
    playlists: list[SearchHit] = field(default_factory=list)
    tags: list[SearchHit] = field(default_factory=list)

    def group(self, kind: Kind) -> list[SearchHit]:
        hits: list[SearchHit] = getattr(self, kind)
        return hits

    def groups(self) -> list[tuple[Kind, list[SearchHit]]]:
        """The non-empty groups, in display order."""
        return [(kind, self.group(kind)) for kind in KINDS if self.group(kind)]

    @property
    def total(self) -> int:
        return sum(len(self.group(kind)) for kind in KINDS)


@dataclass(frozen=True, slots=True)
class Audience:
    """Who searches: their DID (None signed out) and whether they opted in to seeing
    content-warned tracks in search."""

    did: str | None = None
    show_warned: bool = False


SIGNED_OUT = Audience()


def parse_types(values: Iterable[str] | None) -> tuple[Kind, ...]:
    """`["track", "albums,tags"]` → the kinds, in display order; None or empty: all.
    Unknown names raise ValueError."""
    if not values:
        return KINDS
    wanted: set[str] = set()
    for value in values:
        for part in value.split(","):
            name = part.strip().lower()
            if not name:
                continue
            plural = name if name.endswith("s") else f"{name}s"
            if plural not in KINDS:
                raise ValueError(f"unknown type {part.strip()!r}: use {', '.join(KINDS)}")
            wanted.add(plural)
    return tuple(kind for kind in KINDS if kind in wanted) or KINDS


def query_text(query: str) -> str:
    """The user's text as a page may show it back: at most MAX_QUERY_TEXT characters,
    control characters as spaces."""
    return plain_text(query[:MAX_QUERY_TEXT])


def clean_query(query: str) -> str:
    """What is searched for: trimmed, lowercase, no leading @ (handles), bounded length."""
    return normalise(query[:MAX_QUERY_TEXT]).lstrip("@").strip()[:MAX_QUERY].rstrip()


async def search(
    runtime: Runtime,
    query: str,
    *,
    types: Iterable[str] | None = None,
    limit: int = DEFAULT_LIMIT,
    audience: Audience = SIGNED_OUT,
) -> SearchResults:
    q = clean_query(query)
    results = SearchResults(query=q)
    if not q:
        return results
    kinds = parse_types(types)
    limit = max(1, min(limit, MAX_LIMIT))
    find = finder_for(runtime.engine.dialect.name)
    async with runtime.sessions() as session:
        for kind in kinds:
            ids = await find(session, kind, q)
            if not ids:
                continue
            load = partial(_tracks, audience=audience) if kind == "tracks" else _LOADERS[kind]
            hits = await load(session, ids, q)
            hits.sort(key=_rank)
            results.group(kind).extend(hits[:limit])
    return results


def _rank(hit: SearchHit) -> tuple[float, int, float, str]:
    newest = (hit.created_at or _EPOCH).timestamp()
    return (-hit.score, -hit.popularity, -newest, hit.id)


# --- loading and scoring candidates -----------------------------------------------------


async def _tracks(
    session: AsyncSession, ids: Sequence[int | str], q: str, audience: Audience = SIGNED_OUT
) -> list[SearchHit]:
    rows = await session.scalars(
        select(Track).where(
            Track.id.in_([int(i) for i in ids]), Track.atproto_uri.is_not(None), track_listed()
        )
    )
    hits = []
    for track in rows:
        if hidden_from_feeds(
            track.self_labels, track.artist_did, audience.did, opted_in=audience.show_warned
        ):
            continue
        found = best(q, (track.title, 1.0), (track.artist_name, SECONDARY_WEIGHT))
        if found is None:
            continue
        image = f"/images/{track.id}/thumb" if track.thumbnail_key else track.image_url
        hits.append(
            _hit(
                "track",
                str(track.id),
                track.title,
                track.artist_name,
                f"/tracks/{track.id}",
                image,
                found,
                track.play_count,
                track.created_at,
                (track.thumbnail_key, track.image_key, track.image_url),
            )
        )
    return hits


async def _artists(session: AsyncSession, ids: Sequence[int | str], q: str) -> list[SearchHit]:
    dids = [str(i) for i in ids]
    artists = list(
        await session.scalars(
            select(Artist).where(Artist.did.in_(dids), Artist.hidden_at.is_(None))
        )
    )
    plays: dict[str, int] = {
        did: int(total)
        for did, total in await session.execute(
            select(Track.artist_did, func.coalesce(func.sum(Track.play_count), 0))
            .where(Track.artist_did.in_(dids), Track.atproto_uri.is_not(None), track_listed())
            .group_by(Track.artist_did)
        )
    }
    hits = []
    for artist in artists:
        found = best(q, (artist.handle, 1.0), (artist.display_name, 1.0))
        if found is None:
            continue
        hits.append(
            _hit(
                "artist",
                artist.did,
                artist.display_name or artist.handle,
                f"@{artist.handle}",
                f"/artists/{quote(artist.handle, safe='')}",
                artist.avatar_url,
                found,
                plays.get(artist.did, 0),
                artist.created_at,
                (artist.avatar_url,) if artist.avatar_url else (),
            )
        )
    return hits


async def _lists(
    session: AsyncSession, ids: Sequence[int | str], q: str, list_type: ListType
) -> list[SearchHit]:
    list_ids = [int(i) for i in ids]
    rows = await session.execute(
        select(MusicList, Artist.handle)
        .join(Artist, Artist.did == MusicList.did)
        .where(
            MusicList.id.in_(list_ids),
            MusicList.list_type == list_type,
            Artist.hidden_at.is_(None),
        )
    )
    plays: dict[int, int] = {
        list_id: int(total)
        for list_id, total in await session.execute(
            select(ListItem.list_id, func.coalesce(func.sum(Track.play_count), 0))
            .join(Track, Track.id == ListItem.track_id)
            .where(ListItem.list_id.in_(list_ids), Track.atproto_uri.is_not(None), track_listed())
            .group_by(ListItem.list_id)
        )
    }
    path = "albums" if list_type == ListType.album else "playlists"
    hits = []
    for row, handle in rows:
        found = best(q, (row.name, 1.0))
        if found is None or not row.name:
            continue
        image = f"/lists/{row.id}/cover/thumb" if row.thumbnail_key else None
        hits.append(
            _hit(
                list_type.value,
                str(row.id),
                row.name,
                f"{list_type.value} by @{handle}",
                f"/{path}/{row.id}",
                image,
                found,
                plays.get(row.id, 0),
                row.created_at,
                tuple(key for key in (row.thumbnail_key, row.image_key) if key),
            )
        )
    return hits


async def _albums(session: AsyncSession, ids: Sequence[int | str], q: str) -> list[SearchHit]:
    return await _lists(session, ids, q, ListType.album)


async def _playlists(session: AsyncSession, ids: Sequence[int | str], q: str) -> list[SearchHit]:
    return await _lists(session, ids, q, ListType.playlist)


async def _tags(session: AsyncSession, ids: Sequence[int | str], q: str) -> list[SearchHit]:
    rows = await session.execute(
        select(Tag.id, Tag.name, func.count(Track.id))
        .join(TrackTag, TrackTag.tag_id == Tag.id)
        .join(Track, Track.id == TrackTag.track_id)
        .where(Tag.id.in_([int(i) for i in ids]), Track.atproto_uri.is_not(None), track_listed())
        .group_by(Tag.id, Tag.name)
    )
    hits = []
    for tag_id, name, count in rows:  # tags without a published track are not shown
        found = best(q, (name, 1.0))
        if found is None:
            continue
        hits.append(
            _hit(
                "tag",
                str(tag_id),
                name,
                f"{count} track{'' if count == 1 else 's'}",
                f"/tags/{quote(name, safe='')}",
                None,
                found,
                int(count),
                # Tags have no date; a later id is a newer tag.
                datetime.fromtimestamp(tag_id, UTC),
                (),
            )
        )
    return hits


def _hit(
    kind: str,
    id_: str,
    title: str,
    subtitle: str | None,
    url: str,
    image_url: str | None,
    found: Score,
    popularity: int,
    created_at: datetime | None,
    images: tuple[str | None, ...],
) -> SearchHit:
    return SearchHit(
        kind=kind,
        id=id_,
        title=title,
        subtitle=subtitle,
        url=url,
        image_url=image_url,
        score=found.value,
        match=found.match.value,
        popularity=popularity,
        created_at=created_at,
        images=tuple(image for image in images if image),
    )


_LOADERS = {
    "tracks": _tracks,
    "artists": _artists,
    "albums": _albums,
    "playlists": _playlists,
    "tags": _tags,
}
