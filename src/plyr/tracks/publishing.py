"""`track.publish`: write (or rewrite) a track's `fm.plyr.track` record under the key chosen
when the track was made, with the audio as a blob when it is small enough, then let the
likes, comments and lists waiting for the track's CID go out."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

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

    audio_blob: dict[str, Any] | None = None
    stream_key = track.stream_key or track.original_key
    stat = await runtime.storage.stat(stream_key)
    # Uploaded again on every publish: the PDS keeps one copy per CID, and the ref must
    # carry the type the PDS itself gave the blob.
    if stat is not None and stat.size <= settings.publish_blob_max_bytes:
        await ctx.report("publishing", 0.3, "putting the audio in your pds")
        data = bytearray()
        async for chunk in runtime.storage.get_range(stream_key):
            data += chunk
        try:
            audio_blob = await repo.upload_blob(
                bytes(data), track.stream_content_type or "audio/mpeg"
            )
        except PayloadTooLarge:
            log.info("audio larger than the PDS's blob limit; publishing audioUrl only")
        if audio_blob is not None and not str(audio_blob.get("mimeType", "")).startswith("audio/"):
            # The PDS sniffs blobs and may name the type differently (WebM: video/webm);
            # the lexicon takes audio/* only, so such a track links its audio instead.
            log.info("the PDS typed the audio %s; publishing audioUrl only", audio_blob["mimeType"])
            audio_blob = None
        del data
        await update_row(
            runtime,
            Track,
            track_id,
            audio_blob_cid=audio_blob["ref"]["$link"] if audio_blob else None,
        )

    record = track_record(settings, track, tags=tags, audio_blob=audio_blob)
    await ctx.report("publishing", 0.7, "writing the record")
    async with pds_writes():
        ref = await repo.put_record(collection, track.rkey, record)
    async with runtime.sessions() as db:
        row = await db.get(Track, track_id)
        if row is not None:
            row.publish_state = PublishState.published
            row.publish_error = None
            row.atproto_uri, row.atproto_cid = ref.uri, ref.cid
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
