"""The catalogue a run measures: `support.catalogue`'s rows in a SQLite file or a PostgreSQL
database, real MP3s hard-linked behind the stream keys of the tracks the stream scenario
plays, and an app password for the listener the Subsonic clients sign in as (made with
plyr's own function, under the data folder's secret key, which the server then reads)."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from plyr.auth.subsonic_passwords import create_password
from plyr.config import Settings
from plyr.db import migrate
from plyr.db.models import Artist, Play, PublishState, Track
from plyr.runtime import Runtime
from support.catalogue.fill import fill
from support.catalogue.sizes import sizes_for
from support.databases import prepare_target
from support.load.media import make_lengths

STREAMED = 500  # tracks the stream scenario draws from (popular ones, as players play)


@dataclass(frozen=True)
class Setup:
    url: str
    username: str  # the listener's handle
    password: str  # their app password
    track_ids: list[int]  # playable tracks, for the stream scenario


async def build(target: str, data_dir: Path, tracks: int, seed: int) -> str:
    """A fresh catalogue of about `tracks` tracks at `target` (file or URL); its URL."""
    url = await prepare_target(target, replace=True)
    now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    await fill(url, sizes_for(tracks / 100_000), seed, now)
    return url


async def prepare(url: str, data_dir: Path, work: Path, seed: int) -> Setup:
    await migrate.upgrade_async(url)  # a catalogue made before a newer migration: current
    settings = Settings(database_url=url, data_dir=data_dir)
    runtime = Runtime.open(settings)
    try:
        async with runtime.sessions() as db:
            # The busiest listener: their `recent` and `frequent` lists are not empty.
            did = await db.scalar(
                select(Play.listener_did)
                .where(Play.listener_did.is_not(None))
                .group_by(Play.listener_did)
                .order_by(func.count().desc())
                .limit(1)
            )
            handle = await db.scalar(select(Artist.handle).where(Artist.did == did))
            popular = (
                await db.execute(
                    select(
                        Track.id,
                        func.coalesce(Track.stream_key, Track.original_key),
                        Track.duration_seconds,
                    )
                    .where(Track.publish_state == PublishState.published)
                    .order_by(Track.play_count.desc())
                    .limit(STREAMED)
                )
            ).all()
        assert did is not None
        assert handle is not None
        password = await create_password(runtime, did)
    finally:
        await runtime.close()
    tones = make_lengths(work / "tones")
    for _track_id, key, duration in popular:
        nearest = min(tones, key=lambda seconds: abs(seconds - (duration or 0)))
        target = data_dir / "media" / key
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.link(tones[nearest], target)
    track_ids = [track_id for track_id, _key, _duration in popular]
    random.Random(seed).shuffle(track_ids)
    return Setup(url, handle, password, track_ids)
