"""What the review pages need besides the flags: the audio an operator hears (the flagged
track even after a takedown, when its public audio answers 451, and a reference work's
imported audio) and the handles of the people the audit log names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from plyr.db.models import Artist, ReferenceWork, Track
from plyr.errors import ServiceError
from plyr.runtime import Runtime


@dataclass(frozen=True, slots=True)
class StoredAudio:
    key: str
    content_type: str


async def track_audio(runtime: Runtime, track_id: int) -> StoredAudio:
    """A track's stream (its original when there is no stream), taken down or not."""
    async with runtime.sessions() as db:
        track = await db.get(Track, track_id)
    key = (track.stream_key or track.original_key) if track is not None else None
    if track is None or not key:
        raise ServiceError(404, "not_found", "there is no such track")
    content_type = (track.stream_content_type if track.stream_key else None) or (
        "application/octet-stream"
    )
    return StoredAudio(key, content_type)


async def reference_audio(runtime: Runtime, work_id: int) -> StoredAudio:
    """A reference work's imported audio; 404 when it was imported as a fingerprint only."""
    async with runtime.sessions() as db:
        work = await db.get(ReferenceWork, work_id)
    if work is None:
        raise ServiceError(404, "not_found", "there is no such reference work")
    if not work.audio_key:
        raise ServiceError(404, "not_found", "this reference work has no audio, only a fingerprint")
    return StoredAudio(work.audio_key, work.audio_content_type or "application/octet-stream")


async def handles_of(runtime: Runtime, dids: Iterable[str]) -> dict[str, str]:
    """The handles plyr knows for these DIDs (actors like "cli" or "system" are left out)."""
    wanted = {did for did in dids if did.startswith("did:")}
    if not wanted:
        return {}
    async with runtime.sessions() as db:
        rows = await db.execute(select(Artist.did, Artist.handle).where(Artist.did.in_(wanted)))
        return {did: handle for did, handle in rows if handle}
