"""Plays per track in the last day, week and month, kept as plays are counted (issue 19).

`track_window_plays` holds, for each track, its plays at or after each window's *edge*
(`play_windows`, one row per window). Triggers on `plays` (migration 0016) keep it in step
with every writer: a play at or after an edge is added to that window, a deleted one taken
away; with no edge row a window counts every play. `advance` moves the edges on to
`now - window` and takes away the plays that aged out; `count_play` calls it at most once
a minute per process (`advance_if_due`), and nothing depends on how often it runs.

Reading a window at `now` (`ranked`) corrects the stored counts by the plays between the
edge and `now - window` (minutes of plays when plays keep coming), so the answer is what
counting the plays table gives, to the play: same window, same ties, same filters. When the
edge is missing or further from `now - window` than the window is long (counting the plays
is no dearer then), or an advance committed while it read, `ranked` returns None and the
caller counts the plays instead.

Concurrency: an advance must not miss a play written while it runs (the play would stay
counted after its edge passed it). On PostgreSQL the advance first takes `plays` in SHARE
ROW EXCLUSIVE mode: it waits for transactions that wrote plays to end, holds new writers
until it commits, and excludes other advances. SQLite has one writer at a time; the
advance's first statement writes, so it holds the lock before it reads the edge.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from plyr.db.models import Play, PlayWindow, Track, TrackWindowPlays, utcnow
from plyr.runtime import Runtime

log = logging.getLogger(__name__)

WINDOW_DAYS: dict[str, int] = {"day": 1, "week": 7, "month": 30}
# How often a process tries to move the edges on (count_play); readers correct the rest.
ADVANCE_EVERY_SECONDS = 60.0

_last_advance: weakref.WeakKeyDictionary[AsyncEngine, float] = weakref.WeakKeyDictionary()


def _column(window: str) -> Any:
    return getattr(TrackWindowPlays, window)


def _between(start: datetime | None, end: datetime) -> ColumnElement[bool]:
    """`start <= created_at < end` (no start: everything before `end`)."""
    before = Play.created_at < end
    return before if start is None else and_(Play.created_at >= start, before)


async def _plays_between(db: AsyncSession, start: datetime | None, end: datetime) -> dict[int, int]:
    rows = await db.execute(
        select(Play.track_id, func.count()).where(_between(start, end)).group_by(Play.track_id)
    )
    return {int(track_id): int(count) for track_id, count in rows}


async def advance(runtime: Runtime, now: datetime | None = None) -> None:
    """Move every window's edge on to `now - window`, taking away the plays that aged out."""
    now = now or utcnow()
    async with runtime.sessions() as db:
        if runtime.engine.dialect.name == "postgresql":
            await db.execute(text("LOCK TABLE plays IN SHARE ROW EXCLUSIVE MODE"))
        else:  # a write first: the transaction holds SQLite's write lock before it reads
            await db.execute(update(PlayWindow).where(PlayWindow.name == "").values(name=""))
        rows = await db.execute(select(PlayWindow.name, PlayWindow.edge))
        edges: dict[str, datetime] = {name: edge for name, edge in rows}
        for window, days in WINDOW_DAYS.items():
            target = now - timedelta(days=days)
            edge = edges.get(window)
            if edge is not None and edge >= target:
                continue
            aged = _between(edge, target)
            played = select(Play.track_id).where(aged)
            column = _column(window)
            count = (
                select(func.count())
                .where(Play.track_id == TrackWindowPlays.track_id, aged)
                .scalar_subquery()
            )
            await db.execute(
                update(TrackWindowPlays)
                .where(TrackWindowPlays.track_id.in_(played))
                .values({column: column - count})
            )
            await db.execute(
                delete(TrackWindowPlays).where(
                    TrackWindowPlays.track_id.in_(played),
                    TrackWindowPlays.day == 0,
                    TrackWindowPlays.week == 0,
                    TrackWindowPlays.month == 0,
                )
            )
            if edge is None:
                db.add(PlayWindow(name=window, edge=target))
                await db.flush()
            else:
                await db.execute(
                    update(PlayWindow).where(PlayWindow.name == window).values(edge=target)
                )
        await db.commit()


async def advance_if_due(runtime: Runtime) -> None:
    """`advance`, at most once per ADVANCE_EVERY_SECONDS per process; never raises (the
    edges only make reading cheaper, a later call catches up)."""
    now = time.monotonic()
    last = _last_advance.get(runtime.engine)
    if last is not None and now - last < ADVANCE_EVERY_SECONDS:
        return
    _last_advance[runtime.engine] = now
    try:
        await advance(runtime)
    except Exception:  # best effort: counting the play already succeeded
        log.warning("play windows: could not move the edges on", exc_info=True)


async def ranked(
    db: AsyncSession,
    window: str,
    now: datetime,
    limit: int,
    published: ColumnElement[bool],
) -> list[tuple[Track, int]] | None:
    """The `limit` tracks with most plays in `[now - window, ∞)` matching `published`,
    most plays first, then the newest track; None when counting the plays is as cheap."""
    days = WINDOW_DAYS[window]
    target = now - timedelta(days=days)
    edge = await db.scalar(select(PlayWindow.edge).where(PlayWindow.name == window))
    if edge is None or abs(target - edge) > timedelta(days=days):
        return None
    # Plays the stored counts hold but the window does not (edge before target), or the
    # other way round (a `now` in the past, or clocks apart).
    if target >= edge:
        corrections = {t: -n for t, n in (await _plays_between(db, edge, target)).items()}
    else:
        corrections = await _plays_between(db, target, edge)
    column = _column(window)
    # Without corrections, the first `limit` rows are the answer; each corrected track can
    # push at most one of them out, so `limit + len(corrections)` rows hold every track
    # that may rank (those outside have no correction and rank below `limit` of them).
    rows = await db.execute(
        select(Track, column)
        .join(TrackWindowPlays, TrackWindowPlays.track_id == Track.id)
        .where(published, column > 0)
        .order_by(column.desc(), Track.created_at.desc(), Track.id.desc())
        .limit(limit + len(corrections))
    )
    found: dict[int, tuple[Track, int]] = {track.id: (track, int(n)) for track, n in rows}
    missing = [track_id for track_id in corrections if track_id not in found]
    if missing:
        stored = func.coalesce(column, 0)
        rows = await db.execute(
            select(Track, stored)
            .outerjoin(TrackWindowPlays, TrackWindowPlays.track_id == Track.id)
            .where(Track.id.in_(missing), published)
        )
        found.update({track.id: (track, int(n)) for track, n in rows})
    if await db.scalar(select(PlayWindow.edge).where(PlayWindow.name == window)) != edge:
        return None  # an advance committed meanwhile: the counts may not match the edge
    counted = [(track, plays + corrections.get(track.id, 0)) for track, plays in found.values()]
    return _top(counted, limit)


def _top(counted: Sequence[tuple[Track, int]], limit: int) -> list[tuple[Track, int]]:
    played = [(track, plays) for track, plays in counted if plays > 0]
    played.sort(key=lambda pair: (pair[1], pair[0].created_at, pair[0].id), reverse=True)
    return played[:limit]
