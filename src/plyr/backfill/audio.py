"""The last phase: the audio of every indexed track still waiting for it, fetched (from the
record's audioBlob or its audioUrl) and made streamable like an upload, a few at a time,
so every track plays when the backfill returns.

`fetch_track_audio` decides for good when it can (audio that is no audio, too large, a
blob the PDS does not have: the track is `unplayable` with its reason). An exception from
it is a failure a retry may cure (the PDS did not answer): tried again with backoff, then
left `pending` for the next run, and reported.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import func, select

from plyr.backfill.report import BackfillReport, Progress, ProgressCallback, Skipped
from plyr.db.models import Track
from plyr.db.visibility import AUDIO_PENDING, AUDIO_UNPLAYABLE
from plyr.runtime import Runtime
from plyr.tracks.fetching import fetch_track_audio

log = logging.getLogger(__name__)

PAGE = 500


@dataclass(frozen=True, slots=True)
class AudioLimits:
    concurrency: int = 4
    attempts: int = 3
    backoff_seconds: float = 1.0


async def _pending_ids(runtime: Runtime) -> AsyncIterator[int]:
    """Ids of tracks waiting for their audio, page by page (keyset: memory stays flat)."""
    after = 0
    while True:
        async with runtime.sessions() as db:
            ids = list(
                await db.scalars(
                    select(Track.id)
                    .where(Track.audio_state == AUDIO_PENDING, Track.id > after)
                    .order_by(Track.id)
                    .limit(PAGE)
                )
            )
        for track_id in ids:
            yield track_id
        if len(ids) < PAGE:
            return
        after = ids[-1]


async def count_pending(runtime: Runtime) -> int:
    async with runtime.sessions() as db:
        return int(
            await db.scalar(select(func.count()).where(Track.audio_state == AUDIO_PENDING)) or 0
        )


async def _state(runtime: Runtime, track_id: int) -> tuple[str, str | None, str]:
    async with runtime.sessions() as db:
        track = await db.get(Track, track_id)
        if track is None:  # deleted meanwhile (a record deleted at its PDS)
            return "gone", None, ""
        return track.audio_state, track.audio_error, track.atproto_uri or f"track {track_id}"


async def _fetch_one(runtime: Runtime, track_id: int, limits: AudioLimits) -> str | None:
    """Fetch with retries; the last error when every try failed, else None."""
    for attempt in range(1, limits.attempts + 1):
        try:
            await fetch_track_audio(runtime, track_id)
            return None
        except Exception as exc:
            if attempt == limits.attempts:
                log.warning("the audio of track %s failed %d times: %s", track_id, attempt, exc)
                return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            await asyncio.sleep(limits.backoff_seconds * 2 ** (attempt - 1))
    return None  # pragma: no cover


async def fetch_pending_audio(
    runtime: Runtime, report: BackfillReport, limits: AudioLimits, progress: ProgressCallback
) -> None:
    total = await count_pending(runtime)
    done = 0
    progress(Progress("audio", 0, total))
    slots = asyncio.Semaphore(limits.concurrency)
    running: set[asyncio.Task[None]] = set()

    async def one(track_id: int) -> None:
        nonlocal done
        try:
            error = await _fetch_one(runtime, track_id, limits)
            state, audio_error, uri = await _state(runtime, track_id)
            if state == AUDIO_UNPLAYABLE:
                report.audio_unplayable += 1
                report.add_skipped([Skipped(uri, f"audio: {audio_error or 'unplayable'}")])
            elif state == AUDIO_PENDING:
                report.audio_pending += 1
                why = error or "still pending"
                report.add_skipped([Skipped(uri, f"audio not fetched yet: {why}")])
            elif state != "gone":
                report.audio_ready += 1
            done += 1
            progress(Progress("audio", done, max(total, done), detail=uri))
        finally:
            slots.release()

    async for track_id in _pending_ids(runtime):
        await slots.acquire()
        task = asyncio.create_task(one(track_id))
        running.add(task)
        task.add_done_callback(running.discard)
    if running:
        await asyncio.gather(*running)
    progress(Progress("audio", done, max(total, done)))
