"""Repair: make a user's PDS hold every record plyr indexes for them again.

A record can go missing from a PDS (deleted by another client by mistake, a PDS restored
from an old backup, a move to a new PDS). Repair reads each indexed record back; a missing
or failed one is queued for publishing again under its own rkey, so nothing is duplicated.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from plyr.atproto.repo import RepoClient
from plyr.auth.sessions import SessionEnded, repo_for, session_for
from plyr.db.models import PublishState, RecordState, Track
from plyr.errors import ServiceError
from plyr.jobs.queue import enqueue
from plyr.runtime import Runtime
from plyr.social import sync


async def _repo(runtime: Runtime, did: str, session_id: str | None) -> RepoClient:
    session = await session_for(runtime, did, session_id)
    if session is None:
        raise SessionEnded("no live session")
    return await repo_for(runtime, session)


async def repair_records(runtime: Runtime, did: str, session_id: str | None) -> dict[str, Any]:
    """Check every record of `did` that plyr indexes; republish what is missing or failed.

    Returns counts: checked, missing (queued again), failed (queued again).
    """
    try:
        repo = await _repo(runtime, did, session_id)
        present: dict[str, set[str]] = {}
        for name in ["track", *(kind.name for kind in sync.registered())]:
            collection = runtime.lexicons.collection(name)
            present[name] = {
                record.uri.rsplit("/", 1)[-1] async for record in repo.iter_records(collection)
            }
    except SessionEnded as exc:
        raise ServiceError(401, "signed_out", "sign in again to repair your records") from exc
    except Exception as exc:
        raise ServiceError(
            503, "pds_unreachable", f"your pds could not be read, nothing was changed ({exc})"
        ) from exc

    checked = missing = failed = 0
    async with runtime.sessions() as db:
        tracks = await db.execute(
            select(Track).where(
                Track.artist_did == did, Track.publish_state != PublishState.processing
            )
        )
        for track in tracks.scalars():
            checked += 1
            lost = (
                track.publish_state == PublishState.published and track.rkey not in present["track"]
            )
            if lost or track.publish_state == PublishState.failed:
                missing += int(lost)
                failed += int(not lost)
                track.publish_state = PublishState.publishing
                track.publish_error = None
                await enqueue(
                    db, "track.publish", {"track_id": track.id}, dedupe_key=f"publish:{track.id}"
                )
        for kind in sync.registered():
            rows = await db.execute(select(kind.model).where(kind.model.did == did))
            for row in rows.scalars():
                checked += 1
                lost = (
                    row.record_state == RecordState.published and row.rkey not in present[kind.name]
                )
                if lost or row.record_state == RecordState.failed:
                    missing += int(lost)
                    failed += int(not lost)
                    await sync.changed(db, row, session_id)
        await db.commit()
    return {"checked": checked, "missing": missing, "failed": failed}
