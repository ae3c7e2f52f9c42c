"""The catalogue a run times: `support.load.media`'s catalogue (SQLite, in the server's
data folder) with real 128 kbit/s MP3s hard-linked behind every stream key, and an app
password for one of its users (made with plyr's own function, under the data folder's
secret key, which the server then reads)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from plyr.auth.subsonic_passwords import create_password
from plyr.config import Settings
from plyr.db.models import Artist, PublishState, Track
from plyr.runtime import Runtime
from support.load.media import build_catalogue, link_audio, make_lengths

PLAYED = 200  # the tracks the requests draw from


@dataclass(frozen=True)
class Listener:
    username: str  # a handle
    password: str  # its app password
    track_ids: list[int]  # published tracks whose stream is one of the linked MP3s


async def prepare(data_dir: Path, work: Path, tracks: int, seed: int) -> tuple[str, Listener]:
    """Fill the catalogue, link its audio, make the listener; the database URL with it."""
    url = await build_catalogue(data_dir, tracks, seed)
    await link_audio(url, data_dir / "media", make_lengths(work / "tones"))
    runtime = Runtime.open(Settings(database_url=url, data_dir=data_dir))
    try:
        async with runtime.sessions() as db:
            did, handle = (await db.execute(select(Artist.did, Artist.handle).limit(1))).one()
            found = await db.scalars(
                select(Track.id)
                .where(
                    Track.publish_state == PublishState.published,
                    Track.stream_key.like("%.mp3"),  # the other originals are linked MP3s too
                )
                .order_by(Track.play_count.desc())
                .limit(PLAYED)
            )
            track_ids = list(found)
        password = await create_password(runtime, did)
    finally:
        await runtime.close()
    random.Random(seed).shuffle(track_ids)
    return url, Listener(handle, password, track_ids)
