"""Catalogue numbers for the home page and `/api/stats`, and an artist's own analytics.

Home is the hottest page, so the catalogue numbers are kept for a few seconds per process
(`CACHE_SECONDS`); they are sums over the tracks table (each counted play bumps its track's
`play_count`), never a scan of the plays table.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from plyr.cache import on_catalogue_change, single_flight
from plyr.db.models import Play, PublishState, Track, utcnow
from plyr.db.visibility import track_listed
from plyr.runtime import Runtime

CACHE_SECONDS = 5.0
ANALYTICS_DAYS = 30


@dataclass(frozen=True)
class CatalogueStats:
    plays: int
    tracks: int  # published
    artists: int  # with at least one published track
    duration_seconds: int  # of the published tracks

    def as_dict(self) -> dict[str, int]:
        return {
            "plays": self.plays,
            "tracks": self.tracks,
            "artists": self.artists,
            "duration_seconds": self.duration_seconds,
        }


# Per database engine (a test's or a process's runtime), dropped with it.
_cache: weakref.WeakKeyDictionary[AsyncEngine, tuple[float, CatalogueStats]] = (
    weakref.WeakKeyDictionary()
)


def clear_cache() -> None:
    """Forget the cached numbers (tests, takedowns; the next call reads the database)."""
    _cache.clear()


on_catalogue_change(clear_cache)


async def catalogue_stats(runtime: Runtime, *, max_age: float = CACHE_SECONDS) -> CatalogueStats:
    """Plays, published tracks, artists with a published track, and their total duration;
    at most `max_age` seconds old."""
    key = runtime.engine
    cached = _cache.get(key)
    now = time.monotonic()
    if cached is not None and now - cached[0] < max_age:
        return cached[1]
    stats = await single_flight(("stats", id(key)), lambda: _count(runtime))
    if stats.tracks:  # an empty catalogue costs nothing to count: a first upload shows at once
        _cache[key] = (now, stats)
    return stats


async def _count(runtime: Runtime) -> CatalogueStats:
    published = and_(Track.publish_state == PublishState.published, track_listed())
    async with runtime.sessions() as db:
        row = (
            await db.execute(
                select(
                    func.coalesce(func.sum(Track.play_count), 0),
                    func.count(case((published, Track.id))),
                    func.count(func.distinct(case((published, Track.artist_did)))),
                    func.coalesce(func.sum(case((published, Track.duration_seconds), else_=0)), 0),
                )
            )
        ).one()
    return CatalogueStats(int(row[0]), int(row[1]), int(row[2]), int(row[3]))


# --- an artist's analytics ----------------------------------------------------------------


@dataclass(frozen=True)
class TrackPlays:
    track_id: int
    title: str
    publish_state: str
    plays: int  # all time
    recent_plays: int  # in the analytics window


@dataclass(frozen=True)
class DayPlays:
    day: date
    plays: int


@dataclass(frozen=True)
class ArtistAnalytics:
    days: int
    since: datetime
    tracks: list[TrackPlays]  # most played first
    per_day: list[DayPlays]  # oldest first, one entry per day (zeros included)

    @property
    def total_plays(self) -> int:
        return sum(track.plays for track in self.tracks)

    @property
    def recent_plays(self) -> int:
        return sum(day.plays for day in self.per_day)

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "since": self.since.isoformat(),
            "total_plays": self.total_plays,
            "recent_plays": self.recent_plays,
            "tracks": [
                {
                    "id": t.track_id,
                    "title": t.title,
                    "publish_state": t.publish_state,
                    "plays": t.plays,
                    "recent_plays": t.recent_plays,
                }
                for t in self.tracks
            ],
            "per_day": [{"day": d.day.isoformat(), "plays": d.plays} for d in self.per_day],
        }


def _utc_day(runtime: Runtime) -> Any:
    """SQL for the UTC calendar day of a play (SQLite stores UTC text; PostgreSQL converts
    from timestamptz explicitly so the session's time zone cannot shift it)."""
    if runtime.settings.is_sqlite:
        return func.date(Play.created_at)
    return func.date(func.timezone("UTC", Play.created_at))


async def artist_analytics(
    runtime: Runtime, did: str, *, days: int = ANALYTICS_DAYS, now: datetime | None = None
) -> ArtistAnalytics:
    """Plays per track of `did` (all time and in the last `days` days) and plays per UTC
    day over those days. The plays queries go through ix_plays_track_id_created_at: one
    range per track of the artist."""
    now = now or utcnow()
    today = now.date()
    first_day = today - timedelta(days=days - 1)
    since = datetime.combine(first_day, datetime.min.time(), tzinfo=now.tzinfo)
    own_plays = (
        select(Play.track_id)
        .join(Track, Track.id == Play.track_id)
        .where(Track.artist_did == did, Play.created_at >= since)
    )
    day = _utc_day(runtime).label("day")
    async with runtime.sessions() as db:
        tracks = (
            await db.execute(
                select(Track.id, Track.title, Track.publish_state, Track.play_count)
                .where(Track.artist_did == did)
                .order_by(Track.play_count.desc(), Track.created_at.desc(), Track.id.desc())
            )
        ).all()
        counted = await db.execute(
            own_plays.add_columns(func.count().label("plays")).group_by(Play.track_id)
        )
        recent = {int(track_id): int(plays) for track_id, plays in counted.all()}
        daily = (
            await db.execute(
                select(day, func.count())
                .select_from(Play)
                .join(Track, Track.id == Play.track_id)
                .where(Track.artist_did == did, Play.created_at >= since)
                .group_by(day)
            )
        ).all()
    by_day = {str(value)[:10]: int(count) for value, count in daily}
    per_day = [
        DayPlays(d, by_day.get(d.isoformat(), 0))
        for d in (first_day + timedelta(days=i) for i in range(days))
    ]
    track_rows = [
        TrackPlays(
            int(track_id),
            str(title),
            state.value if isinstance(state, PublishState) else str(state),
            int(plays or 0),
            int(recent.get(track_id, 0)),
        )
        for track_id, title, state, plays in tracks
    ]
    return ArtistAnalytics(days, since, track_rows, per_day)
