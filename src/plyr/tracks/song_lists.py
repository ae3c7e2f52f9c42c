"""Song lists for players (Subsonic's getRandomSongs, getSongsByGenre, getTopSongs,
getSimilarSongs): songs (`plyr.tracks.library.song_listed`), picked by a
tag (plyr's genres are tags), a year (plyr has no release years: the year a track came to
plyr, its `created_at`), an artist or a likeness.

- random: any order, new each time.
- tagged: newest first, then the higher id: offsets page through without repeats.
- an artist's top: their most played tracks (everyone's counted plays), newest first among
  equals; the artist named by handle or display name, case-insensitive (players send the
  `artist` name they were shown).
- similar: what a radio of the seed plays, in random order: the seed's artists' tracks and
  tracks sharing a tag with the seed's, less the seed's own songs (an artist's seed keeps
  that artist's songs: "songs by the artist and similar artists").
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select

from plyr.db.models import Artist, Tag, Track, TrackTag
from plyr.db.text import storable
from plyr.runtime import Runtime
from plyr.tracks.library import song_listed
from plyr.tracks.library_lists import MAX_PAGE, year_range
from plyr.tracks.library_sync import song_ids


def _bounded(limit: int) -> int:
    return max(0, min(limit, MAX_PAGE))


async def _ids(runtime: Runtime, query: Select[Any]) -> list[int]:
    async with runtime.sessions() as db:
        return list((await db.execute(query)).scalars())


def _tagged(tag: str) -> Any:
    return (
        select(TrackTag.track_id)
        .join(Tag, Tag.id == TrackTag.tag_id)
        .where(TrackTag.track_id == Track.id, Tag.name == tag)
        .exists()
    )


async def random_tracks(
    runtime: Runtime,
    *,
    limit: int,
    tag: str | None = None,
    from_year: int | None = None,
    to_year: int | None = None,
) -> list[int]:
    """Random tracks, optionally with a tag and from/to a year (`created_at`, inclusive)."""
    limit = _bounded(limit)
    if limit == 0 or (tag is not None and not storable(tag)):
        return []
    if tag is None and from_year is None and to_year is None:  # a sample of every song
        every = await song_ids(runtime)
        return [every[i] for i in random.sample(range(len(every)), min(limit, len(every)))]
    query = select(Track.id).where(song_listed())
    if tag is not None:
        query = query.where(_tagged(tag))
    if from_year is not None:
        query = query.where(Track.created_at >= year_range(from_year, from_year)[0])
    if to_year is not None:
        query = query.where(Track.created_at < year_range(to_year, to_year)[1])
    return await _ids(runtime, query.order_by(func.random()).limit(limit))


async def tagged_tracks(runtime: Runtime, tag: str, *, limit: int, offset: int = 0) -> list[int]:
    """Tracks with the tag, newest first (the higher id first among equals)."""
    limit = _bounded(limit)
    if limit == 0 or not storable(tag):
        return []
    query = (
        select(Track.id)
        .where(song_listed(), _tagged(tag))
        .order_by(Track.created_at.desc(), Track.id.desc())
        .offset(max(0, offset))
        .limit(limit)
    )
    return await _ids(runtime, query)


async def artist_top_tracks(runtime: Runtime, name: str, *, limit: int) -> list[int]:
    """The most played tracks of the artists called `name` (handle or display name, any
    case, a leading @ allowed); none for a name nobody has."""
    limit = _bounded(limit)
    wanted = name.strip().removeprefix("@").lower()
    if limit == 0 or not wanted or not storable(wanted):
        return []
    named = select(Artist.did).where(
        Artist.hidden_at.is_(None),
        or_(func.lower(Artist.handle) == wanted, func.lower(Artist.display_name) == wanted),
    )
    query = (
        select(Track.id)
        .where(Track.artist_did.in_(named), song_listed())
        .order_by(Track.play_count.desc(), Track.created_at.desc(), Track.id.desc())
        .limit(limit)
    )
    return await _ids(runtime, query)


@dataclass(frozen=True)
class Seed:
    """What a radio starts from: artists (their songs are in it) and songs (left out)."""

    artist_dids: Sequence[str] = ()
    track_ids: Sequence[int] = ()


async def similar_tracks(runtime: Runtime, seed: Seed, *, limit: int) -> list[int]:
    """Tracks like the seed's, in random order (see the module's docstring)."""
    limit = _bounded(limit)
    if limit == 0 or not (seed.artist_dids or seed.track_ids):
        return []
    seed_tracks = select(Track.id).where(
        or_(Track.artist_did.in_(list(seed.artist_dids)), Track.id.in_(list(seed.track_ids))),
        song_listed(),
    )
    seed_tags = select(TrackTag.tag_id).where(TrackTag.track_id.in_(seed_tracks))
    sharing = select(TrackTag.track_id).where(TrackTag.tag_id.in_(seed_tags))
    related = or_(Track.id.in_(sharing), Track.artist_did.in_(list(seed.artist_dids)))
    query = select(Track.id).where(song_listed(), related)
    if seed.track_ids:
        query = query.where(Track.id.not_in(list(seed.track_ids)))
    return await _ids(runtime, query.order_by(func.random()).limit(limit))
