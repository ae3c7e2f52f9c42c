"""The bare queries: the one query each page cannot do without, written with SQLAlchemy
Core and run on a plain connection of the same database, to compare the app with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncEngine

from plyr.db.models import Artist, Play, PublishState, Track
from support.read_paths.inputs import Inputs

SCREEN = 50  # what a page can show at once: the bare queries fetch this many rows


def bare_queries(engine: AsyncEngine, inputs: Inputs) -> dict[str, Callable[[int], Awaitable[Any]]]:
    """The one query each page cannot do without, on a plain connection."""

    async def run(statement: Any) -> Any:
        async with engine.connect() as conn:
            return (await conn.execute(statement)).all()

    track_columns = [c for c in Track.__table__.c]

    async def home(i: int) -> Any:
        return await run(
            select(*track_columns)
            .where(Track.publish_state == PublishState.published)
            .order_by(Track.created_at.desc(), Track.id.desc())
            .limit(SCREEN)
        )

    async def track(i: int) -> Any:
        return await run(select(*track_columns).where(Track.id == inputs.track_ids[i]))

    async def artist(i: int) -> Any:
        async with engine.connect() as conn:
            did = await conn.scalar(
                select(Artist.did).where(Artist.handle == inputs.handles[i]).limit(1)
            )
            return (
                await conn.execute(
                    select(*track_columns)
                    .where(Track.artist_did == did, Track.publish_state == PublishState.published)
                    .order_by(Track.created_at.desc(), Track.id.desc())
                    .limit(SCREEN)
                )
            ).all()

    def top(days: int) -> Callable[[int], Awaitable[Any]]:
        return lambda i: top_tracks(days)

    async def top_tracks(days: int) -> Any:
        # Plays per track in the window, then the tracks (plyr.listening.top's shape before
        # the rollup of issue 19: what the window costs read from the plays themselves).
        since = datetime.now(UTC) - timedelta(days=days)
        grouped = (Play.track_id + literal_column("0")).label("track_id")  # as top.py groups
        counts = (
            select(grouped, func.count().label("plays"))
            .where(Play.created_at >= since)
            .group_by(grouped)
            .subquery()
        )
        return await run(
            select(*track_columns, counts.c.plays)
            .join(counts, counts.c.track_id == Track.id)
            .where(Track.publish_state == PublishState.published)
            .order_by(counts.c.plays.desc(), Track.created_at.desc(), Track.id.desc())
            .limit(20)
        )

    def search(queries: list[str]) -> Callable[[int], Awaitable[Any]]:
        return lambda i: substring(queries[i])

    async def substring(query: str) -> Any:
        # Plain substring match on titles and artist names: what a search index replaces.
        pattern = f"%{query}%"
        return await run(
            select(Track.id, Track.title, Track.artist_name)
            .where(
                Track.publish_state == PublishState.published,
                Track.title.ilike(pattern) | Track.artist_name.ilike(pattern),
            )
            .limit(20)
        )

    return {
        "home": home,
        "track": track,
        "artist": artist,
        "home-uncached": home,
        "track-uncached": track,
        "artist-uncached": artist,
        "top": top(7),
        "top-day": top(1),
        "top-month": top(30),
        "search": search(inputs.queries),
        "typing": search(inputs.typed),
    }
