"""Top tracks by plays in a time window, and the tracks liked most recently.

`top_tracks` for a window reads the plays per track kept for the day, week and month as
plays are counted (`plyr.listening.windows`: most played first, corrected to the exact
window), and counts rows of the plays table in the window only when those are not there
(an index-only range scan of `plays (created_at, track_id)`, then a join to the tracks that
were played). "all" uses the tracks' own `play_count`.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, and_, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncEngine

from plyr.cache import on_catalogue_change, single_flight
from plyr.db.models import Like, Play, PublishState, Track, utcnow
from plyr.db.visibility import track_listed
from plyr.listening import windows
from plyr.runtime import Runtime

Window = Literal["day", "week", "month", "all"]
WINDOW_DAYS: dict[str, int | None] = {"day": 1, "week": 7, "month": 30, "all": None}
MAX_LIMIT = 100
CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class RankedTrack:
    track: Track
    plays: int  # in the window (all time for "all")


@dataclass(frozen=True)
class LikedTrack:
    track: Track
    liked_at: datetime


async def top_tracks(
    runtime: Runtime, window: Window = "week", limit: int = 20, *, now: datetime | None = None
) -> list[RankedTrack]:
    """Published tracks with the most plays in the window; ties go to the newest track."""
    limit = max(1, min(limit, MAX_LIMIT))
    days = WINDOW_DAYS[window]
    published = and_(Track.publish_state == PublishState.published, track_listed())
    async with runtime.sessions() as db:
        if days is None:
            query = (
                select(Track, Track.play_count)
                .where(published, Track.play_count > 0)
                .order_by(Track.play_count.desc(), Track.created_at.desc(), Track.id.desc())
                .limit(limit)
            )
        else:
            now = now or utcnow()
            kept = await windows.ranked(db, window, now, limit, _kept_published(runtime))
            if kept is not None:
                db.expunge_all()
                return [RankedTrack(track, plays) for track, plays in kept]
            since = now - timedelta(days=days)
            # `track_id + 0`: grouping by an expression keeps SQLite on the (created_at,
            # track_id) range instead of walking every play by track_id (bench/read_paths.py).
            grouped = (Play.track_id + literal_column("0")).label("track_id")
            counts = (
                select(grouped, func.count().label("plays"))
                .where(Play.created_at >= since)
                .group_by(grouped)
                .subquery()
            )
            query = (
                select(Track, counts.c.plays)
                .join(counts, counts.c.track_id == Track.id)
                .where(published)
                .order_by(counts.c.plays.desc(), Track.created_at.desc(), Track.id.desc())
                .limit(limit)
            )
        rows = (await db.execute(query)).all()
        db.expunge_all()
    return [RankedTrack(track, int(plays)) for track, plays in rows]


def _kept_published(runtime: Runtime) -> ColumnElement[bool]:
    """`published` for reading the kept counts. On SQLite through `coalesce`: on the bare
    column its planner walks every published track by the publish_state index; off it, it
    walks the counts, most plays first (PostgreSQL's statistics pick that by themselves)."""
    if runtime.engine.dialect.name != "sqlite":
        return and_(Track.publish_state == PublishState.published, track_listed())
    state = func.coalesce(Track.publish_state, "")
    return and_(state == PublishState.published, track_listed())


_cache: weakref.WeakKeyDictionary[
    AsyncEngine, dict[tuple[str, int], tuple[float, list[RankedTrack]]]
] = weakref.WeakKeyDictionary()


async def cached_top_tracks(
    runtime: Runtime, window: Window = "week", limit: int = 5
) -> list[RankedTrack]:
    """`top_tracks`, kept a few seconds per process (home page, `/api/tracks/top`)."""
    entries = _cache.setdefault(runtime.engine, {})
    key = (window, limit)
    now = time.monotonic()
    hit = entries.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    ranked = await single_flight(
        ("top", id(runtime.engine), key), lambda: top_tracks(runtime, window, limit)
    )
    entries[key] = (now, ranked)
    return ranked


def clear_cache() -> None:
    _cache.clear()


on_catalogue_change(clear_cache)  # a takedown shows at once, not after CACHE_SECONDS


async def recently_liked(runtime: Runtime, limit: int = 20) -> list[LikedTrack]:
    """Published tracks by their latest like, newest first; each track once."""
    limit = max(1, min(limit, MAX_LIMIT))
    latest = (
        select(Like.track_id.label("track_id"), func.max(Like.created_at).label("liked_at"))
        .group_by(Like.track_id)
        .subquery()
    )
    async with runtime.sessions() as db:
        rows = (
            await db.execute(
                select(Track, latest.c.liked_at)
                .join(latest, latest.c.track_id == Track.id)
                .where(Track.publish_state == PublishState.published, track_listed())
                .order_by(latest.c.liked_at.desc(), Track.id.desc())
                .limit(limit)
            )
        ).all()
        db.expunge_all()
    return [LikedTrack(track, _aware(liked_at)) for track, liked_at in rows]


def _aware(value: datetime | str) -> datetime:
    """max() over a UTCDateTime loses the column type on SQLite (text comes back)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)
