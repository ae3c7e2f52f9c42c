"""`track.process`: an accepted upload becomes a playable track. Probe the audio, store the
original content-addressed (its hash is the duplicate check), make a streamable copy when
browsers can't play the original, measure loudness, prepare the artwork, then the Track row
with its tags, its album and the `track.publish` job in one transaction. Safe to run again
after a crash: the content-addressed puts are idempotent and the Upload row remembers its
track.

Failures are permanent or transient. What is wrong with the file itself (every
`plyr.media.errors.MediaError`: corrupt, unsupported, too large, a bomb) cannot get better
by retrying: the upload fails at once with the reason in plain words (the progress stream
and the upload page show it), the job ends after that one attempt, and the incoming files
and every object stored for the upload are deleted. Anything else (storage or the database
unreachable) is retried with backoff, and cleaned up the same way after the last attempt.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
from sqlalchemy import select

from plyr.atproto.tid import next_tid
from plyr.db.models import Artist, PublishState, Track, Upload, UploadStatus
from plyr.jobs.queue import enqueue
from plyr.jobs.registry import JobContext, PermanentJobError, job_handler
from plyr.media.artwork import check_image, process_artwork
from plyr.media.errors import CorruptFile, MediaError, MetadataTooLarge, UnsafeImage
from plyr.media.loudness import integrated_loudness, playback_gain_db
from plyr.media.memory import release_free_memory
from plyr.media.probe import AudioInfo, probe_audio
from plyr.media.sniff import AudioFormat, sniff_audio
from plyr.media.transcode import transcode, transcode_reason
from plyr.runtime import Runtime
from plyr.social.albums import file_under_album
from plyr.social.tags import set_tags
from plyr.storage.artwork import store_artwork
from plyr.storage.base import put_content_addressed
from plyr.tracks.deleting import delete_unused
from plyr.tracks.job_rows import job_runtime, update_row

log = logging.getLogger(__name__)
T = TypeVar("T")

TRANSCODE_TARGET = "mp3"
STREAM_MIME = {"mp3": "audio/mpeg", "opus": "audio/ogg"}


async def _download(runtime: Runtime, key: str, target: Path) -> None:
    async with await anyio.open_file(target, "wb") as handle:
        async for chunk in runtime.storage.get_range(key):
            await handle.write(chunk)


async def _in_thread_with_progress(
    ctx: JobContext, phase: str, start: float, end: float, func: Callable[..., T], *args: Any
) -> T:
    """Run CPU work in a thread (PyAV and numpy release the GIL) and report its progress."""
    latest = [0.0]

    def progress(fraction: float) -> None:
        latest[0] = max(0.0, min(1.0, fraction))

    task = asyncio.ensure_future(anyio.to_thread.run_sync(lambda: func(*args, progress=progress)))
    while not task.done():
        await ctx.report(phase, start + (end - start) * latest[0])
        await asyncio.wait({task}, timeout=0.5)
    return task.result()


async def _drop_incoming(runtime: Runtime, upload: Upload) -> None:
    for key in (upload.incoming_audio_key, upload.incoming_image_key):
        if key:
            await runtime.storage.delete(key)


async def _fail_upload(runtime: Runtime, upload: Upload, stored: list[str], error: str) -> None:
    """Say why first (the progress stream picks it up), then remove what the upload left."""
    await update_row(runtime, Upload, upload.id, status=UploadStatus.failed, error=error[:500])
    await _drop_incoming(runtime, upload)
    await delete_unused(runtime, stored)
    await update_row(runtime, Upload, upload.id, incoming_audio_key=None, incoming_image_key=None)


def _failure_message(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, CorruptFile) and "can't be decoded" not in text:
        return f"this file can't be decoded: {text}"
    return text


@job_handler("track.process")
async def process_upload(ctx: JobContext) -> dict[str, Any]:
    runtime = job_runtime(ctx)
    upload_id = str(ctx.payload["upload_id"])
    async with runtime.sessions() as db:
        upload = await db.get(Upload, upload_id)
        if upload is None:
            raise PermanentJobError(f"upload {upload_id} no longer exists")
        db.expunge(upload)
    if upload.track_id is not None:  # done before a crash: only the follow-up may be missing
        await _enqueue_publish(runtime, upload.track_id)
        return {"track_id": upload.track_id}
    if upload.status == UploadStatus.failed:  # its cleanup was cut short: finish it
        await _fail_upload(runtime, upload, [], upload.error or "the upload failed")
        raise PermanentJobError(upload.error or "the upload failed")
    stored: list[str] = []
    try:
        track_id = await _process(ctx, runtime, upload, stored)
    except (PermanentJobError, MediaError) as exc:
        message = _failure_message(exc)
        await _fail_upload(runtime, upload, stored, message)
        raise PermanentJobError(message) from exc
    except Exception as exc:
        if ctx.last_attempt:
            message = f"processing failed: {type(exc).__name__}: {exc}"
            await _fail_upload(runtime, upload, stored, message)
        raise
    finally:
        # The decode and loudness buffers were freed in worker threads: give them back.
        await anyio.to_thread.run_sync(release_free_memory)
    await _drop_incoming(runtime, upload)
    return {"track_id": track_id}


async def _process(ctx: JobContext, runtime: Runtime, upload: Upload, stored: list[str]) -> int:
    """Process one upload; every object it stores is listed in `stored` as it goes, so a
    failure can remove what no track ended up using."""
    settings = runtime.settings
    storage = runtime.storage
    fields = dict(upload.fields)
    warnings: list[str] = []
    tmp_root = settings.data_dir / "tmp"
    await anyio.Path(tmp_root).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tmp_root, prefix="process-") as work_dir:
        work = Path(work_dir)
        await ctx.report("receiving", 0.02, "reading the upload")
        if upload.incoming_audio_key is None:
            raise PermanentJobError("the uploaded file is gone")
        source = work / f"original.{upload.audio_format}"
        await _download(runtime, upload.incoming_audio_key, source)

        await ctx.report("probing", 0.06, "reading the audio")
        audio_format = await anyio.to_thread.run_sync(sniff_audio, source)
        info = await anyio.to_thread.run_sync(probe_audio, source, audio_format)
        # Refuse a metadata bomb before the long steps; the cover is used later.
        embedded = None
        if info.largest_picture_bytes > settings.max_image_bytes:
            raise MetadataTooLarge(
                f"the embedded artwork is too large: {info.largest_picture_bytes / 1e6:.2f} MB "
                f"(at most {settings.max_image_bytes / 1e6:.2f} MB, as for uploaded artwork)"
            )
        if info.cover is not None and not upload.incoming_image_key:
            embedded = await anyio.to_thread.run_sync(_checked_cover, info, work, warnings)

        await ctx.report("hashing", 0.1, "checking for duplicates")
        original, _new = await put_content_addressed(
            storage, "audio", source, audio_format.extension, audio_format.mime
        )
        stored.append(original.key)
        digest = original.key.rsplit("/", 1)[-1].split(".", 1)[0]
        async with runtime.sessions() as db:
            existing = await db.scalar(
                select(Track.title).where(
                    Track.artist_did == upload.artist_did, Track.content_hash == digest
                )
            )
        if existing is not None:
            raise PermanentJobError(f"you already uploaded this file, as “{existing}”")

        stream_key, stream_type, stream_path = original.key, audio_format.mime, source
        stream_format: AudioFormat | None = audio_format
        file_type = audio_format.extension
        reason = transcode_reason(
            info, audio_format, upload.size_bytes, settings.wav_stream_limit_bytes
        )
        if reason is not None:
            warnings.append(
                f"a streamable {TRANSCODE_TARGET} was made ({reason}); the original is kept"
            )
            await ctx.report("transcoding", 0.15, f"making a streamable {TRANSCODE_TARGET}")
            out = await _in_thread_with_progress(
                ctx,
                "transcoding",
                0.15,
                0.75,
                functools.partial(transcode, fmt=audio_format),
                source,
                work,
                TRANSCODE_TARGET,
            )
            stream, _ = await put_content_addressed(
                storage, "audio", out, TRANSCODE_TARGET, STREAM_MIME[TRANSCODE_TARGET]
            )
            stored.append(stream.key)
            stream_key, stream_type, stream_path = stream.key, STREAM_MIME[TRANSCODE_TARGET], out
            stream_format = None  # the new file: loudness reads its format itself

        await ctx.report("loudness", 0.8, "measuring loudness")
        loudness = await anyio.to_thread.run_sync(integrated_loudness, stream_path, stream_format)
        gain = playback_gain_db(loudness)

        await ctx.report("artwork", 0.9, "preparing artwork")
        image_key = thumb_key = None
        artwork = None
        try:
            if upload.incoming_image_key:
                picture = work / "artwork"
                await _download(runtime, upload.incoming_image_key, picture)
                artwork = await anyio.to_thread.run_sync(process_artwork, picture, work)
            elif embedded is not None:
                artwork = await anyio.to_thread.run_sync(process_artwork, embedded, work)
                warnings.append("artwork taken from the file's embedded cover")
        except MediaError as exc:
            if upload.incoming_image_key:
                raise PermanentJobError(f"the artwork can't be used: {exc}") from exc
            warnings.append(f"the embedded cover was skipped: {exc}")
        if artwork is not None:
            image_key, thumb_key = await store_artwork(storage, artwork)
            stored.extend([image_key, thumb_key])

        title = fields.get("title") or info.title or Path(upload.filename).stem
        if not fields.get("title"):
            warnings.append(f"title taken from the file: “{title}”")
        album = fields.get("album") or info.album or None

        async with runtime.sessions() as db:
            artist = await db.get(Artist, upload.artist_did)
            if artist is None:
                raise PermanentJobError("the artist signed out for good (account removed)")
            track = Track(
                artist_did=upload.artist_did,
                title=title[:256],
                artist_name=(artist.display_name or artist.handle)[:256],
                album=album[:256] if album else None,
                description=fields.get("description") or None,
                features=fields.get("features") or [],
                file_type=file_type if stream_key == original.key else TRANSCODE_TARGET,
                duration_seconds=info.duration_seconds,
                content_hash=digest,
                original_key=original.key,
                stream_key=stream_key,
                stream_content_type=stream_type,
                image_key=image_key,
                thumbnail_key=thumb_key,
                size_bytes=upload.size_bytes,
                codec=info.codec,
                sample_rate=info.sample_rate,
                channels=info.channels,
                loudness_lufs=loudness.lufs if loudness.lufs != float("-inf") else None,
                gain_db=gain,
                rkey=next_tid(),
                publish_state=PublishState.publishing,
            )
            db.add(track)
            await db.flush()
            await set_tags(db, track.id, list(fields.get("tags") or []))
            await file_under_album(db, upload.artist_did, track.id, track.album, upload.session_id)
            row = await db.get(Upload, upload.id)
            assert row is not None
            row.track_id = track.id
            row.status = UploadStatus.done
            row.warnings = warnings
            await enqueue(
                db, "track.publish", {"track_id": track.id}, dedupe_key=f"publish:{track.id}"
            )
            await db.commit()
            await ctx.report("publishing", 0.95, "writing the record to your pds")
            return track.id


def _checked_cover(info: AudioInfo, work: Path, warnings: list[str]) -> Path | None:
    """The embedded cover as a file, once its header passed the limits of uploaded artwork.
    A bomb fails the upload; a cover that is merely unreadable is skipped with a warning."""
    assert info.cover is not None
    path = work / "embedded-cover"
    path.write_bytes(info.cover)
    try:
        check_image(path)
    except UnsafeImage as exc:
        raise MetadataTooLarge(f"the embedded artwork is too large: {exc}") from None
    except MediaError as exc:
        declared = f" (declared as {info.cover_mime})" if info.cover_mime else ""
        warnings.append(f"the embedded cover{declared} was skipped: {exc}")
        return None
    return path


async def _enqueue_publish(runtime: Runtime, track_id: int) -> None:
    async with runtime.sessions() as db:
        await enqueue(db, "track.publish", {"track_id": track_id}, dedupe_key=f"publish:{track_id}")
        await db.commit()
