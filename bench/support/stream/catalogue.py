"""The database the app under test reads: a small `support.catalogue` (1 000 tracks, the
schema from plyr's migrations), with the bench's files behind a few of its tracks, so
`/audio/{id}` and `/media/{key}` take their real paths (the track looked up, the checks
for taken-down tracks and hidden accounts), and one taken-down track whose file must not
be served to listeners (the offload check)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import create_async_engine

from plyr.db.models import PublishState, Track
from support.catalogue.fill import fill
from support.catalogue.sizes import sizes_for
from support.stream.files import Files

SCALE = 0.01  # 1 000 tracks


@dataclass(frozen=True)
class Catalogue:
    url: str
    track_ids: list[int]  # track i plays files.keys[i]
    private_key: str  # the taken-down track's audio
    private_id: int


def build_catalogue(data_dir: Path, media: Path, files: Files) -> Catalogue:
    data_dir.mkdir(parents=True, exist_ok=True)
    private = os.urandom(256 * 1024)
    digest = hashlib.sha256(private).hexdigest()
    private_key = f"audio/{digest[:2]}/{digest}.mp3"
    (media / private_key).parent.mkdir(parents=True, exist_ok=True)
    (media / private_key).write_bytes(private)
    (media / private_key).chmod(0o644)
    return asyncio.run(_build(f"sqlite+aiosqlite:///{data_dir / 'plyr.db'}", files, private_key))


async def _build(url: str, files: Files, private_key: str) -> Catalogue:
    now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    await fill(url, sizes_for(SCALE), 8, now)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            ids = list(
                (
                    await conn.execute(
                        select(Track.id)
                        .where(Track.publish_state == PublishState.published)
                        .order_by(Track.id)
                        .limit(len(files.keys) + 1)
                    )
                ).scalars()
            )
            for track_id, key in zip(ids, [*files.keys, private_key], strict=True):
                await conn.execute(
                    update(Track)
                    .where(Track.id == track_id)
                    .values(original_key=key, stream_key=key, stream_content_type="audio/mpeg")
                )
            await conn.execute(
                update(Track)
                .where(Track.id == ids[-1])
                .values(taken_down_at=now, takedown_reason="bench", takedown_source="admin")
            )
    finally:
        await engine.dispose()
    return Catalogue(url=url, track_ids=ids[:-1], private_key=private_key, private_id=ids[-1])
