"""Top tracks from the kept window counts (issue 19): the same answer as counting the plays
table, whatever writes the plays, whenever the edges last moved, on both databases."""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, text, update

from plyr.db.models import (
    Artist,
    Play,
    PlayWindow,
    PublishState,
    Track,
    TrackWindowPlays,
    utcnow,
)
from plyr.listening import plays as counting
from plyr.listening import top, windows
from plyr.runtime import Runtime

ARTIST = "did:plc:windows"


def _track(n: int, created: datetime, **extra: object) -> Track:
    return Track(
        id=n,
        artist_did=ARTIST,
        title=f"window {n}",
        artist_name="windows",
        file_type="mp3",
        content_hash=f"{n:064d}",
        original_key=f"audio/{n}.mp3",
        rkey=f"3kw{n:09d}",
        atproto_uri=f"at://{ARTIST}/fm.plyr.track/3kw{n:09d}",
        publish_state=extra.pop("state", PublishState.published),
        created_at=created,
        **extra,
    )


async def _catalogue(runtime: Runtime, now: datetime) -> list[tuple[int, datetime]]:
    """30 tracks (one unpublished, one taken down; pairs made at the same moment so ties go
    to the higher id) and plays over 40 days, returned as (track id, played at)."""
    rng = random.Random(19)
    plays: list[tuple[int, datetime]] = []
    async with runtime.sessions() as db:
        db.add(Artist(did=ARTIST, handle="windows.test", pds_url="https://pds.test"))
        await db.flush()
        for n in range(1, 31):
            extra: dict[str, object] = {}
            if n == 5:
                extra["state"] = PublishState.failed
            if n == 6:
                extra["taken_down_at"] = now
            db.add(_track(n, now - timedelta(days=60, hours=n // 2), **extra))
        await db.flush()
        for i in range(900):
            track_id = min(30, 1 + int(rng.paretovariate(1.2)) % 30)
            at = now - timedelta(seconds=rng.uniform(0, 40 * 86400))
            plays.append((track_id, at))
            db.add(Play(track_id=track_id, listen_id=f"w{i}", listened_ms=30_000, created_at=at))
        await db.commit()
    return plays


def _expected(
    plays: list[tuple[int, datetime]], window: str, now: datetime, limit: int = 100
) -> list[tuple[int, int]]:
    """What counting the plays gives: (track id, plays), most plays, then the newest track
    (tracks 2k and 2k+1 are equally new: the higher id first)."""
    since = now - timedelta(days=windows.WINDOW_DAYS[window])
    counts = Counter(track for track, at in plays if at >= since and track not in (5, 6))
    ranked = sorted(counts.items(), key=lambda item: (item[1], -(item[0] // 2), item[0]))
    return ranked[::-1][:limit]


async def _top(runtime: Runtime, window: str, now: datetime) -> list[tuple[int, int]]:
    found = await top.top_tracks(runtime, window, 100, now=now)  # type: ignore[arg-type]
    return [(ranked.track.id, ranked.plays) for ranked in found]


async def _kept_is_used(runtime: Runtime, window: str, now: datetime) -> bool:
    published = Track.publish_state == PublishState.published
    async with runtime.sessions() as db:
        return await windows.ranked(db, window, now, 10, published) is not None


async def _stored(runtime: Runtime) -> dict[str, Counter[int]]:
    async with runtime.sessions() as db:
        rows = (await db.execute(select(TrackWindowPlays))).scalars().all()
    return {w: Counter({r.track_id: getattr(r, w) for r in rows}) for w in windows.WINDOW_DAYS}


async def test_kept_counts_rank_as_counting_the_plays(runtime: Runtime) -> None:
    now = utcnow().replace(microsecond=0)
    plays = await _catalogue(runtime, now)
    await windows.advance(runtime, now)

    # Right after an advance, minutes and hours later, and with a `now` before the edges.
    for moment in (
        now,
        now + timedelta(minutes=7),
        now + timedelta(hours=5),
        now - timedelta(hours=3),
    ):
        for window in windows.WINDOW_DAYS:
            assert await _kept_is_used(runtime, window, moment)
            assert await _top(runtime, window, moment) == _expected(plays, window, moment)

    # The stored counts are the plays at or after each edge.
    stored = await _stored(runtime)
    for window, days in windows.WINDOW_DAYS.items():
        edge = now - timedelta(days=days)
        counted = Counter(track for track, at in plays if at >= edge)
        assert +stored[window] == counted

    # Far from the edge (more than the window), the plays are counted directly: same answer.
    later = now + timedelta(days=2)
    assert not await _kept_is_used(runtime, "day", later)
    assert await _top(runtime, "day", later) == _expected(plays, "day", later)
    assert await _top(runtime, "week", later) == _expected(plays, "week", later)

    limited = await top.top_tracks(runtime, "month", 3, now=now)
    assert [(r.track.id, r.plays) for r in limited] == _expected(plays, "month", now, 3)


async def test_every_writer_of_plays_keeps_the_counts(runtime: Runtime) -> None:
    now = utcnow().replace(microsecond=0)
    plays = await _catalogue(runtime, now)
    await windows.advance(runtime, now - timedelta(hours=1))

    async with runtime.sessions() as db:
        # A play reported late (before the day's edge, after the week's), one now, one old.
        for i, (track_id, at) in enumerate(
            [(7, now - timedelta(days=2)), (8, now), (9, now - timedelta(days=45))]
        ):
            db.add(Play(track_id=track_id, listen_id=f"late{i}", listened_ms=1, created_at=at))
            plays.append((track_id, at))
        # A play deleted, one moved to another track and time.
        first = await db.scalar(select(Play).where(Play.listen_id == "w0"))
        assert first is not None
        plays.remove((first.track_id, first.created_at))
        await db.delete(first)
        second = await db.scalar(select(Play).where(Play.listen_id == "w1"))
        assert second is not None
        plays.remove((second.track_id, second.created_at))
        await db.execute(
            update(Play).where(Play.id == second.id).values(track_id=3, created_at=now)
        )
        plays.append((3, now))
        await db.commit()
    # A track deleted: its plays go with it (a cascade).
    async with runtime.sessions() as db:
        await db.execute(delete(Track).where(Track.id == 2))
        await db.commit()
    plays = [(track, at) for track, at in plays if track != 2]

    for window in windows.WINDOW_DAYS:
        assert await _kept_is_used(runtime, window, now)
        assert await _top(runtime, window, now) == _expected(plays, window, now)

    # Advancing again takes the aged plays away, and rows left at zero go.
    await windows.advance(runtime, now + timedelta(days=31))
    stored = await _stored(runtime)
    later = now + timedelta(days=31)
    for window in windows.WINDOW_DAYS:
        assert await _top(runtime, window, later) == _expected(plays, window, later)
        assert +stored[window] == Counter(
            track
            for track, at in plays
            if at >= later - timedelta(days=windows.WINDOW_DAYS[window])
        )
    async with runtime.sessions() as db:
        zero = await db.scalar(
            select(TrackWindowPlays.track_id).where(TrackWindowPlays.month == 0).limit(1)
        )
    assert zero is None


async def test_without_edges_every_play_counts_and_advancing_makes_them(
    runtime: Runtime,
) -> None:
    # As after a restore that emptied play_windows: counted directly until an advance.
    now = utcnow().replace(microsecond=0)
    plays = await _catalogue(runtime, now)
    async with runtime.sessions() as db:
        assert await db.scalar(select(PlayWindow.edge)) is None
    assert not await _kept_is_used(runtime, "week", now)
    assert await _top(runtime, "week", now) == _expected(plays, "week", now)
    assert sum((await _stored(runtime))["day"].values()) == len(plays)  # no edge: all

    windows._last_advance.clear()
    await windows.advance_if_due(runtime)
    async with runtime.sessions() as db:
        rows = await db.execute(select(PlayWindow.name, PlayWindow.edge))
        edges = {name: edge for name, edge in rows}
    assert set(edges) == set(windows.WINDOW_DAYS)
    assert await _kept_is_used(runtime, "week", utcnow())
    moved = edges["week"]
    await windows.advance_if_due(runtime)  # within the minute: nothing moves
    async with runtime.sessions() as db:
        assert await db.scalar(select(PlayWindow.edge).where(PlayWindow.name == "week")) == moved
    assert moved.tzinfo is not None
    assert moved < datetime.now(UTC)


async def test_a_counted_play_ranks_and_moves_the_edges_on(runtime: Runtime) -> None:
    # Through `count_play`, as the player reports it: the play is in the kept counts (and
    # the track's plays in search's documents on PostgreSQL), and the edges move on.
    now = utcnow()
    async with runtime.sessions() as db:
        db.add(Artist(did=ARTIST, handle="windows.test", pds_url="https://pds.test"))
        await db.flush()
        db.add(_track(7, now - timedelta(days=3), duration_seconds=200))
        await db.commit()
    windows._last_advance.clear()
    started = {"t": 7, "l": uuid.uuid4().hex, "s": time.time() - 120}
    token = counting._sign(runtime.settings.secret_key_bytes(), started)

    assert await counting.count_play(runtime, token, 60_000, None) == 1

    async with runtime.sessions() as db:
        edges = {name for (name,) in await db.execute(select(PlayWindow.name))}
    assert edges == set(windows.WINDOW_DAYS)
    for window in windows.WINDOW_DAYS:
        assert await _kept_is_used(runtime, window, utcnow())
        assert await _top(runtime, window, utcnow()) == [(7, 1)]
    if runtime.engine.dialect.name == "postgresql":
        async with runtime.engine.connect() as conn:
            docs = text("SELECT play_count FROM search_track_docs WHERE id = 7")
            assert await conn.scalar(docs) == 1
