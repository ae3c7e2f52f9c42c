"""`track.fetch_audio`: the audio of a track indexed from the network (another client's
record, `plyr backfill`) fetched from the record's source and made playable like an upload.

The indexer (`plyr.tracks.network`) writes the row with `audio_state = "pending"` and the
record's sources (`audio_blob_cid`, `audio_url`, `image_blob_cid`, `image_url`) and
enqueues this job; `plyr backfill` calls `fetch_track_audio` itself so its tracks play
when it returns. The bytes come through `plyr.tracks.downloads` (the blob from the author's
PDS, else the URL; guarded, capped at the upload size limit, timed), then go through the
steps of an upload (`plyr.tracks.preparing`); the artwork comes from imageBlob, else
imageUrl, else the file's embedded cover. No record is written: it is already in the PDS.

- Permanent problems (not audio, damaged, too large, a blob the PDS does not have, a URL
  refused or answering 404, the same audio as another track of the artist) leave the track
  "unplayable" with `audio_error` saying why, at once.
- Transient ones (the PDS or the host down, 5xx, 429, a timeout) raise: the job retries
  with backoff, and after its last attempt the track is unplayable with the reason.
- Idempotent: a track already ready is left as it is (the indexer sets a track pending
  again when its record's audio source changes). A fetch whose sources changed meanwhile
  (an edit arrived) keeps nothing: the job enqueued for the new sources does the work.
- Artwork alone: when only the record's artwork changed, the indexer clears the image keys
  of the ready track and this job fetches the artwork only. Artwork never makes a track
  unplayable: a bad or unreachable image is skipped.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.db.models import Track, TrackFingerprint
from plyr.db.visibility import AUDIO_READY, AUDIO_UNPLAYABLE
from plyr.jobs.queue import enqueue
from plyr.jobs.registry import JobContext, ProgressReporter, job_handler
from plyr.media.artwork import process_artwork
from plyr.media.errors import MediaError
from plyr.media.memory import release_free_memory
from plyr.runtime import Runtime
from plyr.storage.artwork import store_artwork
from plyr.tracks.deleting import delete_unused
from plyr.tracks.downloads import MediaSource, SourceProblem, SourceUnavailable, download
from plyr.tracks.job_rows import job_runtime
from plyr.tracks.preparing import PreparedAudio, failure_message, prepare_audio

log = logging.getLogger(__name__)

FETCH_KIND = "track.fetch_audio"
# With the default backoff (2 s doubling, capped at 10 min) about 35 minutes of retries: a
# PDS restarting or briefly down does not cost the track.
FETCH_MAX_ATTEMPTS = 12
AUDIO_SECONDS = 900.0  # the whole download: the upload limit (1.5 GB) at ~2 MB/s
ARTWORK_SECONDS = 60.0
MAX_ERROR = 1000


class DuplicateAudio(Exception):
    """The artist already has a track with exactly this audio (another record)."""


@dataclass(frozen=True, slots=True)
class TrackSources:
    """Where a track's record says its audio and artwork are (as the row holds them)."""

    audio: MediaSource
    image: MediaSource

    @classmethod
    def of(cls, track: Track) -> TrackSources:
        did = track.artist_did
        return cls(
            MediaSource(did, track.audio_blob_cid, track.audio_url),
            MediaSource(did, track.image_blob_cid, track.image_url),
        )

    @property
    def token(self) -> str:
        """Short and stable: tells one set of sources from another (job dedupe keys)."""
        parts = (self.audio.blob_cid, self.audio.url, self.image.blob_cid, self.image.url)
        return hashlib.sha256("\n".join(p or "" for p in parts).encode()).hexdigest()[:16]


async def enqueue_fetch(db: AsyncSession, track: Track) -> None:
    """The fetch job for the track's current sources, in the caller's transaction. Keyed by
    the sources: a job still running for older sources does not absorb this one."""
    token = TrackSources.of(track).token
    await enqueue(
        db, FETCH_KIND, {"track_id": track.id}, dedupe_key=f"fetch_audio:{track.id}:{token}"
    )


async def _quiet(
    phase: str | None, progress: float | None = None, message: str | None = None
) -> None:
    return None


@job_handler(FETCH_KIND, max_attempts=FETCH_MAX_ATTEMPTS)
async def fetch_audio_job(ctx: JobContext) -> dict[str, Any]:
    runtime = job_runtime(ctx)
    track_id = int(ctx.payload["track_id"])
    await fetch_track_audio(runtime, track_id, report=ctx.report, last_attempt=ctx.last_attempt)
    async with runtime.sessions() as db:
        row = (
            await db.execute(
                select(Track.audio_state, Track.audio_error).where(Track.id == track_id)
            )
        ).first()
    if row is None:
        return {"track_id": track_id, "audio_state": None}
    return {"track_id": track_id, "audio_state": row[0], "audio_error": row[1]}


async def fetch_track_audio(
    runtime: Runtime,
    track_id: int,
    *,
    report: ProgressReporter | None = None,
    last_attempt: bool = False,
) -> None:
    """Fetch and prepare the audio (and artwork) of a track from the network.

    Returns once the track is ready, or unplayable for a permanent reason (`audio_error`).
    A transient failure raises (SourceUnavailable, or storage and database errors) with
    the track left pending, unless `last_attempt`: then it is marked unplayable first. A
    track that is gone or already ready is a no-op (but for artwork the indexer asked for).
    """
    tell = report or _quiet
    async with runtime.sessions() as db:
        track = await db.get(Track, track_id)
        if track is None:
            return
        db.expunge(track)
    sources = TrackSources.of(track)
    if track.audio_state == AUDIO_READY:
        if track.image_key is None and not sources.image.empty:
            await _refresh_artwork(runtime, track_id, sources)
        return
    stored: list[str] = []
    try:
        media, size = await _fetch_and_prepare(runtime, track, sources, tell, stored)
        if not await _make_ready(runtime, track_id, sources, media, size):
            await delete_unused(runtime, stored)
    except (SourceProblem, MediaError, DuplicateAudio) as exc:
        reason = exc.reason if isinstance(exc, SourceProblem) else failure_message(exc)
        await _unplayable(runtime, track_id, sources, reason)
        await delete_unused(runtime, stored)
    except Exception as exc:
        await delete_unused(runtime, stored)
        if last_attempt:
            why = (
                exc.reason if isinstance(exc, SourceUnavailable) else f"{type(exc).__name__}: {exc}"
            )
            await _unplayable(runtime, track_id, sources, f"the audio could not be fetched: {why}")
        raise
    finally:
        # Decode and loudness buffers were freed in worker threads: give them back.
        await anyio.to_thread.run_sync(release_free_memory)


def _work_root(runtime: Runtime) -> Path:
    # Under the data folder's tmp: a killed process's leftovers are swept at the next start.
    return runtime.settings.data_dir / "tmp"


async def _fetch_and_prepare(
    runtime: Runtime,
    track: Track,
    sources: TrackSources,
    report: ProgressReporter,
    stored: list[str],
) -> tuple[PreparedAudio, int]:
    settings = runtime.settings
    warnings: list[str] = []
    await anyio.Path(_work_root(runtime)).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=_work_root(runtime), prefix="fetch-") as work_dir:
        work = Path(work_dir)
        await report("downloading", 0.02, "fetching the audio")
        got = await download(
            runtime,
            sources.audio,
            work / "original",
            max_bytes=settings.max_upload_bytes,
            total_seconds=AUDIO_SECONDS,
        )
        picture = await _artwork_file(runtime, sources.image, work, warnings)

        async def refuse_duplicate(digest: str) -> None:
            async with runtime.sessions() as db:
                other = await db.scalar(
                    select(Track.title).where(
                        Track.artist_did == track.artist_did,
                        Track.content_hash == digest,
                        Track.id != track.id,
                    )
                )
            if other is not None:
                raise DuplicateAudio(f"the same audio as “{other}”, another track of the artist")

        media = await prepare_audio(
            runtime,
            got.path,
            work,
            size_bytes=got.size,
            report=report,
            stored=stored,
            warnings=warnings,
            artwork=picture,
            artwork_required=False,
            check_duplicate=refuse_duplicate,
        )
    if warnings:
        log.info("track %s: %s", track.id, "; ".join(warnings))
    return media, got.size


async def _artwork_file(
    runtime: Runtime, source: MediaSource, work: Path, warnings: list[str]
) -> Path | None:
    """The record's artwork as a file, or None (none named, or it can't be had)."""
    if source.empty:
        return None
    try:
        got = await download(
            runtime,
            source,
            work / "artwork",
            max_bytes=runtime.settings.max_image_bytes,
            total_seconds=ARTWORK_SECONDS,
            what="artwork",
        )
    except (SourceProblem, SourceUnavailable) as exc:
        warnings.append(f"the artwork was skipped: {exc.reason}")
        return None
    return got.path


def media_keys(track: Track) -> list[str]:
    """The stored objects a track row names."""
    keys = (
        track.original_key,
        track.stream_key,
        track.image_key,
        track.thumbnail_key,
        track.waveform_key,
    )
    return [key for key in keys if key]


async def _make_ready(
    runtime: Runtime, track_id: int, sources: TrackSources, media: PreparedAudio, size: int
) -> bool:
    """Write the media on the row, unless it changed meanwhile (deleted, new sources, made
    ready by another fetch). False: nothing was kept. The row is locked from the check to
    the commit (PostgreSQL): an edit landing in between must not be overwritten."""
    async with runtime.sessions() as db:
        row = await db.get(Track, track_id, with_for_update=True)
        if row is None or row.audio_state == AUDIO_READY or TrackSources.of(row) != sources:
            return False
        old = media_keys(row)
        for name, value in media.columns().items():
            setattr(row, name, value)
        row.size_bytes = size
        row.audio_state = AUDIO_READY
        row.audio_error = None
        # A fingerprint of earlier audio no longer says anything about this track.
        await db.execute(delete(TrackFingerprint).where(TrackFingerprint.track_id == track_id))
        if runtime.settings.moderation_fingerprints:
            # By kind: moderation sits above tracks (plyr.moderation.scanning).
            await enqueue(
                db,
                "moderation.scan",
                {"track_id": track_id},
                dedupe_key=f"moderation.scan:{track_id}",
            )
        try:
            await db.commit()
        except IntegrityError as exc:  # the same audio committed by another of the artist's tracks
            await db.rollback()
            raise DuplicateAudio("the same audio as another track of the artist") from exc
    kept = {
        media.original_key,
        media.stream_key,
        media.image_key,
        media.thumbnail_key,
        media.waveform_key,
    }
    await delete_unused(runtime, [key for key in old if key not in kept])
    log.info("track %s: audio ready (%s)", track_id, media.file_type)
    return True


async def _unplayable(runtime: Runtime, track_id: int, sources: TrackSources, reason: str) -> None:
    async with runtime.sessions() as db:
        row = await db.get(Track, track_id, with_for_update=True)  # see _make_ready
        if row is None or row.audio_state == AUDIO_READY or TrackSources.of(row) != sources:
            return  # deleted, or an edit brought new sources: their own job decides
        row.audio_state = AUDIO_UNPLAYABLE
        row.audio_error = reason[:MAX_ERROR]
        await db.commit()
    log.info("track %s is unplayable: %s", track_id, reason)


async def _refresh_artwork(runtime: Runtime, track_id: int, sources: TrackSources) -> None:
    """Fetch the artwork of a ready track whose record changed it (best effort)."""
    warnings: list[str] = []
    await anyio.Path(_work_root(runtime)).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=_work_root(runtime), prefix="artwork-") as work_dir:
        work = Path(work_dir)
        picture = await _artwork_file(runtime, sources.image, work, warnings)
        if picture is None:
            log.info("track %s: %s", track_id, "; ".join(warnings))
            return
        try:
            artwork = await anyio.to_thread.run_sync(process_artwork, picture, work)
        except MediaError as exc:
            log.info("track %s: the artwork was skipped: %s", track_id, exc)
            return
        keys = await store_artwork(runtime.storage, artwork)
    async with runtime.sessions() as db:
        row = await db.get(Track, track_id, with_for_update=True)  # see _make_ready
        current = (
            row is not None
            and row.audio_state == AUDIO_READY
            and row.image_key is None
            and TrackSources.of(row) == sources
        )
        if row is not None and current:
            row.image_key, row.thumbnail_key = keys
            await db.commit()
    if not current:
        await delete_unused(runtime, list(keys))
