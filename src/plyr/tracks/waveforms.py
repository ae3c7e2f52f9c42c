"""Tracks' waveforms: stored, computed for tracks that have none, and read for the players.

A waveform (`plyr.media.waveform`) is plyr's own derived data, like a thumbnail: not part
of the record. An upload or a fetched track gets it from the loudness pass
(`plyr.tracks.preparing`); it is stored content-addressed (`waveforms/ab/<sha256>.json`,
the same bytes for the same audio, on local or S3 storage alike) and its key sits on the
track row (`Track.waveform_key`), so the cleanup of a deleted or replaced track's files
(`tracks.deleting.delete_unused` and the lists of a row's keys) takes it with the audio.

Tracks from before waveforms get theirs from `track.waveform` jobs: `enqueue_backfill`
(the `plyr waveforms backfill` command, and a starting worker through `backfill_on_start`
when any ready track has none) enqueues one per track, deduplicated. A file that can't be
decoded fails its job at once (PermanentJobError); storage or the database unreachable
is retried with backoff. Such a track's key is left empty (`NONE_POSSIBLE`) rather than
null, so the backfill does not try it again until its audio is replaced.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import Select, select

from plyr.db.models import Track
from plyr.db.visibility import AUDIO_READY
from plyr.errors import ServiceError
from plyr.jobs.queue import enqueue
from plyr.jobs.registry import JobContext, PermanentJobError, job_handler
from plyr.media.errors import MediaError
from plyr.media.memory import release_free_memory
from plyr.media.waveform import Waveform, waveform_of
from plyr.runtime import Runtime
from plyr.storage.base import ObjectNotFound, Storage, content_key
from plyr.tracks.catalogue import playable_track
from plyr.tracks.deleting import delete_unused
from plyr.tracks.job_rows import job_runtime

log = logging.getLogger(__name__)

KIND = "track.waveform"
BACKFILL = "track.waveform_backfill"
NAMESPACE = "waveforms"
CONTENT_TYPE = "application/json"
MAX_STORED_BYTES = 256 * 1024  # a stored waveform is ~6 kB; anything larger is not one
ENQUEUE_BATCH = 500
NONE_POSSIBLE = ""  # the waveform_key of audio that can't be decoded (no job asks again)


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def store_waveform(storage: Storage, waveform: Waveform) -> str:
    """Store a waveform under its content hash (identical bytes are stored once); its key."""
    data = waveform.to_bytes()
    key = content_key(NAMESPACE, hashlib.sha256(data).hexdigest(), "json")
    existing = await storage.stat(key)
    if existing is None or existing.size != len(data):
        await storage.put(key, _once(data), CONTENT_TYPE)
    return key


async def _download(storage: Storage, key: str, target: Path) -> None:
    """Copy a stored object to a local file (streamed)."""
    async with await anyio.open_file(target, "wb") as handle:
        async for chunk in storage.get_range(key):
            await handle.write(chunk)


def etag_of(key: str) -> str:
    """The strong ETag of a stored waveform: its content hash (the key names it)."""
    return '"' + key.rsplit("/", 1)[-1].split(".", 1)[0] + '"'


@dataclass(frozen=True, slots=True)
class TrackWaveform:
    """A track's waveform as the API answers it; `waveform` is None when the caller's
    `If-None-Match` already names `etag` (nothing was read)."""

    track_id: int
    etag: str
    waveform: Waveform | None


def _matches(etag: str, if_none_match: str | None) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


async def track_waveform(
    runtime: Runtime,
    track_id: int,
    viewer_did: str | None,
    *,
    admin: bool = False,
    if_none_match: str | None = None,
) -> TrackWaveform:
    """The waveform of a track the viewer may see (the rules of playing it: a processing
    track is its artist's alone, a taken-down one answers 451 except to its artist and to
    operators). 404 while it is not computed yet."""
    track = await playable_track(
        runtime, track_id, viewer_did, admin=admin, owner_sees=True, audio_required=False
    )
    not_yet = ServiceError(404, "waveform_pending", "this track's waveform is not computed yet")
    if not track.waveform_key:
        raise not_yet
    etag = etag_of(track.waveform_key)
    if _matches(etag, if_none_match):
        return TrackWaveform(track.id, etag, None)
    data = bytearray()
    try:
        async for chunk in runtime.storage.get_range(track.waveform_key, 0, MAX_STORED_BYTES):
            data.extend(chunk)
    except ObjectNotFound:
        log.warning("track %s: its waveform %s is missing", track.id, track.waveform_key)
        raise not_yet from None
    try:
        waveform = Waveform.from_bytes(bytes(data))
    except ValueError:
        log.warning("track %s: its waveform %s can't be read", track.id, track.waveform_key)
        raise not_yet from None
    return TrackWaveform(track.id, etag, waveform)


# --- computing a missing one -------------------------------------------------------------


def _missing() -> Select[int]:
    """Tracks whose audio is here but whose waveform is not, oldest first."""
    return (
        select(Track.id)
        .where(Track.waveform_key.is_(None), Track.audio_state == AUDIO_READY)
        .order_by(Track.id)
    )


def dedupe_key(track_id: int) -> str:
    return f"{KIND}:{track_id}"


async def enqueue_backfill(runtime: Runtime) -> int:
    """Enqueue a `track.waveform` job for every ready track without a waveform (one
    waiting per track at most); how many tracks lacked one."""
    count = 0
    after = 0
    while True:
        async with runtime.sessions() as db:
            ids = list(await db.scalars(_missing().where(Track.id > after).limit(ENQUEUE_BATCH)))
            for track_id in ids:
                await enqueue(db, KIND, {"track_id": track_id}, dedupe_key=dedupe_key(track_id))
            await db.commit()
        count += len(ids)
        if len(ids) < ENQUEUE_BATCH:
            return count
        after = ids[-1]


async def backfill_on_start(runtime: Runtime) -> bool:
    """A starting worker enqueues the backfill when a ready track has no waveform (tracks
    from before waveforms, after an upgrade). One cheap query when there are none."""
    async with runtime.sessions() as db:
        if await db.scalar(_missing().limit(1)) is None:
            return False
        await enqueue(db, BACKFILL, {}, dedupe_key=BACKFILL)
        await db.commit()
    return True


@job_handler(BACKFILL)
async def backfill_job(ctx: JobContext) -> dict[str, Any]:
    return {"enqueued": await enqueue_backfill(job_runtime(ctx))}


async def _mark_impossible(runtime: Runtime, track_id: int, source: str) -> None:
    """An empty key: this audio has no waveform to give (it can't be decoded), so neither
    the backfill nor a starting worker asks again; new audio clears it."""
    async with runtime.sessions() as db:
        row = await db.get(Track, track_id, with_for_update=True)
        unchanged = row is not None and (row.stream_key or row.original_key) == source
        if row is not None and unchanged and row.waveform_key is None:
            row.waveform_key = NONE_POSSIBLE
            await db.commit()


@job_handler(KIND)
async def waveform_job(ctx: JobContext) -> dict[str, Any]:
    """Compute and store one track's waveform from its streamed audio."""
    runtime = job_runtime(ctx)
    track_id = int(ctx.payload["track_id"])
    async with runtime.sessions() as db:
        row = await db.get(Track, track_id)
        if row is None or row.audio_state != AUDIO_READY or not row.original_key:
            return {"skipped": "the track or its audio is gone"}
        if row.waveform_key:
            return {"waveform_key": row.waveform_key}
        source = row.stream_key or row.original_key
    tmp_root = runtime.settings.data_dir / "tmp"
    await anyio.Path(tmp_root).mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(dir=tmp_root, prefix="waveform-") as work_dir:
            path = Path(work_dir) / "audio"
            try:
                await _download(runtime.storage, source, path)
            except ObjectNotFound as exc:
                raise PermanentJobError(f"the track's audio {source} is not in storage") from exc
            try:
                waveform = await anyio.to_thread.run_sync(waveform_of, path)
            except MediaError as exc:
                await _mark_impossible(runtime, track_id, source)
                raise PermanentJobError(f"no waveform: {exc}") from exc
    finally:
        await anyio.to_thread.run_sync(release_free_memory)
    key = await store_waveform(runtime.storage, waveform)
    async with runtime.sessions() as db:
        row = await db.get(Track, track_id, with_for_update=True)
        # The audio may have been replaced (or the track deleted) while this one decoded.
        current = (
            row is not None
            and row.waveform_key is None
            and (row.stream_key or row.original_key) == source
        )
        if row is not None and current:
            row.waveform_key = key
            await db.commit()
    if not current:
        await delete_unused(runtime, [key])
        return {"skipped": "the track's audio changed meanwhile"}
    log.info("track %s: waveform computed (%d buckets)", track_id, len(waveform.peaks))
    return {"waveform_key": key, "buckets": len(waveform.peaks)}
