"""Published tracks with real files behind them, for the public media folder's tests:
rows written through the ORM (as the domain writes them), files through the storage."""

from __future__ import annotations

import os

from plyr.db.models import Artist, PublishState, Track
from plyr.runtime import Runtime
from plyr.storage import public_sync
from plyr.storage.public_folder import PublicFolder
from tests.support.storage import chunks_of
from tests.support.stored_objects import key_for


def folder_of(runtime: Runtime) -> PublicFolder:
    sync = public_sync.sync_for(runtime.engine)
    assert sync is not None, "the runtime keeps no public folder"
    return sync.folder


async def store(runtime: Runtime, size: int = 300_000, extension: str = "mp3") -> str:
    data = os.urandom(size)
    stored = await runtime.storage.put(key_for(data, extension), chunks_of(data))
    return stored.key


async def publish(
    runtime: Runtime, did: str, *, image_key: str | None = None, title: str = "song"
) -> Track:
    """A published track of `did` (the artist is made when new) whose audio is stored;
    returned once its links are made."""
    key = await store(runtime)
    async with runtime.sessions() as db:
        if await db.get(Artist, did) is None:
            db.add(Artist(did=did, handle=f"{did.rsplit(':', 1)[-1]}.test", pds_url="http://pds"))
        track = Track(
            artist_did=did,
            title=title,
            artist_name="someone",
            file_type="mp3",
            duration_seconds=30,
            content_hash=key.rsplit("/", 1)[-1].split(".")[0],
            original_key=key,
            stream_key=key,
            stream_content_type="audio/mpeg",
            image_key=image_key,
            rkey=f"3kpub{os.urandom(4).hex()}",
            publish_state=PublishState.published,
        )
        db.add(track)
        await db.commit()
        await db.refresh(track)
        db.expunge(track)
    return track
