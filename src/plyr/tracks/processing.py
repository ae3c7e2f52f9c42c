"""`track.process`: an accepted upload becomes a playable track. Probe the audio, store the
original content-addressed (its hash is the duplicate check), make a streamable copy when
browsers can't play the original, measure loudness, prepare the artwork (those steps are
`plyr.tracks.preparing`, shared with tracks fetched from the network), then the Track row
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

import logging
import tempfile
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import select

from plyr.atproto.tid import next_tid
from plyr.db.models import Artist, PublishState, Track, Upload, UploadStatus
from plyr.jobs.queue import enqueue
from plyr.jobs.registry import JobContext, PermanentJobError, job_handler
from plyr.media.errors import MediaError
from plyr.media.memory import release_free_memory
from plyr.runtime import Runtime
from plyr.social.albums import file_under_album
from plyr.social.tags import set_tags
from plyr.tracks.deleting import delete_unused
from plyr.tracks.job_rows import job_runtime, update_row
from plyr.tracks.preparing import download_object, failure_message, prepare_audio

log = logging.getLogger(__name__)


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
        message = failure_message(exc)
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
        await download_object(runtime, upload.incoming_audio_key, source)
        picture = None
        if upload.incoming_image_key:
            picture = work / "artwork"
            await download_object(runtime, upload.incoming_image_key, picture)

        async def refuse_duplicate(digest: str) -> None:
            async with runtime.sessions() as db:
                existing = await db.scalar(
                    select(Track.title).where(
                        Track.artist_did == upload.artist_did, Track.content_hash == digest
                    )
                )
            if existing is not None:
                raise PermanentJobError(f"you already uploaded this file, as “{existing}”")

        media = await prepare_audio(
            runtime,
            source,
            work,
            size_bytes=upload.size_bytes,
            report=ctx.report,
            stored=stored,
            warnings=warnings,
            artwork=picture,
            check_duplicate=refuse_duplicate,
        )
        info = media.info
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
                self_labels=list(fields.get("self_labels") or []),
                lyrics=fields.get("lyrics") or None,
                size_bytes=upload.size_bytes,
                rkey=next_tid(),
                publish_state=PublishState.publishing,
                **media.columns(),
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


async def _enqueue_publish(runtime: Runtime, track_id: int) -> None:
    async with runtime.sessions() as db:
        await enqueue(db, "track.publish", {"track_id": track_id}, dedupe_key=f"publish:{track_id}")
        await db.commit()
