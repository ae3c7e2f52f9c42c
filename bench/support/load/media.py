"""The catalogue the load runs against: `support.catalogue`'s rows in the server's own
SQLite file, with real audio behind every track. A few MP3s of typical lengths are made
once and hard-linked at each track's stream key (the catalogue's keys are content hashes
of nothing; the bytes only need to be real audio of about the right size)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from plyr.db.models import Track
from support.catalogue.fill import fill
from support.catalogue.sizes import sizes_for
from support.load.tones import write_tone

# The lengths made; each track links the one nearest its own duration.
LENGTHS = (120, 240, 360)


async def build_catalogue(data_dir: Path, tracks: int, seed: int) -> str:
    """Fill `<data_dir>/plyr.db` with a catalogue of about `tracks` tracks; its URL."""
    await anyio.Path(data_dir).mkdir(parents=True, exist_ok=True)
    url = f"sqlite+aiosqlite:///{(data_dir / 'plyr.db').resolve()}"
    now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    await fill(url, sizes_for(tracks / 100_000), seed, now)
    return url


def make_lengths(folder: Path) -> dict[int, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {
        seconds: write_tone(folder / f"tone-{seconds}.mp3", seconds, 220.0 + seconds)
        for seconds in LENGTHS
    }


async def link_audio(url: str, media_dir: Path, files: dict[int, Path]) -> int:
    """Hard-link a real MP3 at every published track's stream key; how many were linked."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(Track.stream_key, Track.duration_seconds))).all()
    finally:
        await engine.dispose()
    linked = 0
    for key, duration in rows:
        if not key:
            continue
        nearest = min(files, key=lambda seconds: abs(seconds - (duration or 0)))
        target = media_dir / key
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.link(files[nearest], target)
            linked += 1
    return linked
