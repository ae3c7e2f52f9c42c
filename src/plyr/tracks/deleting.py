"""`track.delete`: after a track's row is gone, delete its record from the artist's PDS and
the stored files nothing else uses (the job also cleans up replaced artwork and covers)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import or_, select

from plyr.auth.sessions import SessionEnded, repo_for, session_for
from plyr.db.models import MusicList, Track
from plyr.jobs.registry import JobContext, job_handler
from plyr.runtime import Runtime
from plyr.social import sync
from plyr.tracks.job_rows import job_runtime

log = logging.getLogger(__name__)


# Taking the record off a PDS that is down for hours must not give up sooner than writing it.
@job_handler("track.delete", max_attempts=sync.SYNC_MAX_ATTEMPTS)
async def delete_track_data(ctx: JobContext) -> dict[str, Any]:
    """After the row is gone: delete the record from the PDS and files no track still uses."""
    runtime = job_runtime(ctx)
    did = str(ctx.payload["did"])
    rkey = ctx.payload.get("rkey")
    removed_record = False
    if rkey and ctx.payload.get("published", True):
        session = await session_for(runtime, did, ctx.payload.get("session_id"))
        if session is None:
            if ctx.last_attempt:
                log.warning("no session to delete %s/%s from the PDS", did, rkey)
            else:
                raise SessionEnded("no live session to delete the record with")
        else:
            repo = await repo_for(runtime, session)
            await repo.delete_record(runtime.lexicons.collection("track"), str(rkey))
            removed_record = True
    removed_files = await delete_unused(runtime, list(ctx.payload.get("keys", [])))
    return {"record_deleted": removed_record, "files_deleted": removed_files}


async def delete_unused(runtime: Runtime, keys: list[str]) -> int:
    """Delete the stored objects no track or list refers to (content-addressed files are shared)."""
    removed = 0
    for key in dict.fromkeys(keys):
        async with runtime.sessions() as db:
            still_used = await db.scalar(
                select(Track.id)
                .where(
                    or_(
                        Track.original_key == key,
                        Track.stream_key == key,
                        Track.image_key == key,
                        Track.thumbnail_key == key,
                        Track.waveform_key == key,
                    )
                )
                .limit(1)
            )
            if still_used is None:
                still_used = await db.scalar(
                    select(MusicList.id)
                    .where(or_(MusicList.image_key == key, MusicList.thumbnail_key == key))
                    .limit(1)
                )
        if still_used is None:
            try:
                removed += int(await runtime.storage.delete(key))
            except Exception:
                log.exception("could not delete %s", key)
    return removed
