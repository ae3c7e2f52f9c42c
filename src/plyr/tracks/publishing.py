"""`track.publish`: write (or rewrite) a track's `fm.plyr.track` record under the key chosen
when the track was made, with the audio and the artwork as blobs when they are small enough
(`audioBlob`, `imageBlob`: a rebuild from the network then needs nothing of plyr's media
store), then let the likes, comments and lists waiting for the track's CID go out."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from plyr.atproto.repo import RepoClient
from plyr.atproto.xrpc import PayloadTooLarge
from plyr.auth.record_writes import pds_writes, write_problem
from plyr.auth.sessions import SessionEnded, repo_for, session_for
from plyr.db.models import ListItem, PublishState, Track, Upload, utcnow
from plyr.jobs.queue import enqueue
from plyr.jobs.registry import JobContext, PermanentJobError, job_handler
from plyr.runtime import Runtime
from plyr.social import sync
from plyr.social.tags import track_tags
from plyr.tracks.job_rows import job_runtime, update_row
from plyr.tracks.records import track_record

log = logging.getLogger(__name__)


# Like every other write to a PDS, a publish outlasts a long outage of the artist's PDS
# (a track uploaded while it is down must not fail for that).
@job_handler("track.publish", max_attempts=sync.SYNC_MAX_ATTEMPTS)
async def publish_track(ctx: JobContext) -> dict[str, Any] | None:
    """Write (or rewrite) the track's record under its pre-chosen rkey."""
    runtime = job_runtime(ctx)
    track_id = int(ctx.payload["track_id"])
    try:
        return await _publish(ctx, runtime, track_id)
    except PermanentJobError as exc:
        await update_row(
            runtime, Track, track_id, publish_state=PublishState.failed, publish_error=str(exc)
        )
        raise
    except Exception as exc:
        message = write_problem(exc)
        if ctx.last_attempt:
            await update_row(
                runtime, Track, track_id, publish_state=PublishState.failed, publish_error=message
            )
        else:
            await update_row(runtime, Track, track_id, publish_error=f"{message}; retrying")
        raise


async def _publish(ctx: JobContext, runtime: Runtime, track_id: int) -> dict[str, Any] | None:
    settings = runtime.settings
    async with runtime.sessions() as db:
        track = await db.get(Track, track_id)
        if track is None:
            return None  # deleted meanwhile
        tags = await track_tags(db, track_id)
        origin = await db.scalar(select(Upload.session_id).where(Upload.track_id == track_id))
        db.expunge(track)
    session = await session_for(runtime, track.artist_did, origin)
    if session is None:
        raise SessionEnded("no live session")
    repo = await repo_for(runtime, session)
    collection = runtime.lexicons.collection("track")

    # Uploaded again on every publish: the PDS keeps one copy per CID, and the ref must
    # carry the type the PDS itself gave the blob.
    await ctx.report("publishing", 0.3, "putting the audio in your pds")
    audio_blob = await _put_blob(
        runtime,
        repo,
        track.stream_key or track.original_key,
        track.stream_content_type or "audio/mpeg",
        "audio/",
    )
    image_blob = None
    if track.image_key:
        await ctx.report("publishing", 0.6, "putting the artwork in your pds")
        image_blob = await _put_blob(runtime, repo, track.image_key, "image/jpeg", "image/")
    await update_row(
        runtime,
        Track,
        track_id,
        audio_blob_cid=_cid(audio_blob),
        image_blob_cid=_cid(image_blob),
    )

    record = track_record(settings, track, tags=tags, audio_blob=audio_blob, image_blob=image_blob)
    await ctx.report("publishing", 0.7, "writing the record")
    async with pds_writes():
        ref = await repo.put_record(collection, track.rkey, record)
    async with runtime.sessions() as db:
        row = await db.get(Track, track_id)
        if row is not None:
            row.publish_state = PublishState.published
            row.publish_error = None
            row.atproto_uri, row.atproto_cid = ref.uri, ref.cid
            if ref.rev:  # the echo of this write (or of an older one) is then left alone
                row.atproto_rev = ref.rev
            row.updated_at = utcnow()
            for item in await db.scalars(select(ListItem).where(ListItem.track_id == track_id)):
                item.subject_uri, item.subject_cid = ref.uri, ref.cid
            # Likes, comments and lists waiting for this track's CID can be written now.
            await sync.track_published(db, track_id)
            if settings.moderation_fingerprints:
                # By kind: moderation sits above tracks (plyr.moderation.scanning).
                await enqueue(
                    db,
                    "moderation.scan",
                    {"track_id": track_id},
                    dedupe_key=f"moderation.scan:{track_id}",
                )
            if settings.labeler_did or settings.atproto_dev_network:
                # A new record version: labels on the old CID follow it; flagged artwork is
                # labelled (plyr.moderation.relabel). Not deduplicated: a job already running
                # may have read the previous CID; the job is idempotent.
                await enqueue(db, "moderation.relabel", {"track_id": track_id})
        await db.commit()
    return {"uri": ref.uri, "cid": ref.cid}


def _cid(blob: dict[str, Any] | None) -> str | None:
    return str(blob["ref"]["$link"]) if blob is not None else None


async def _put_blob(
    runtime: Runtime, repo: RepoClient, key: str, content_type: str, kind: str
) -> dict[str, Any] | None:
    """Upload a stored object as a blob when it fits; its reference, or None when it is too
    large for plyr's limit or the PDS's, or the PDS typed it other than `kind` (e.g. WebM
    audio as video/webm: the lexicon takes audio/* only, so the track links it instead)."""
    stat = await runtime.storage.stat(key)
    if stat is None or stat.size > runtime.settings.publish_blob_max_bytes:
        return None
    data = bytearray()
    async for chunk in runtime.storage.get_range(key):
        data += chunk
    try:
        blob = await repo.upload_blob(bytes(data), content_type)
    except PayloadTooLarge:
        log.info("%s larger than the PDS's blob limit; publishing its URL only", key)
        return None
    finally:
        del data
    if not str(blob.get("mimeType", "")).startswith(kind):
        log.info("the PDS typed %s %s; publishing its URL only", key, blob.get("mimeType"))
        return None
    return blob
