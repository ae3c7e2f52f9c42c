"""Deleting an account: optionally the user's plyr records in their PDS first, then
everything plyr holds about them in one transaction, then (in the background) the stored
files no one else uses.

Order matters: the records go first, while plyr still holds a session that may write to the
PDS. If the PDS cannot be reached nothing is deleted, so the user can try again; deleting a
record twice is harmless, so a second try after a partial first one converges.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from plyr.atproto.repo import Delete, RepoClient, Write
from plyr.atproto.xrpc import XrpcError
from plyr.auth.sessions import SessionEnded, repo_for
from plyr.db.models import (
    Artist,
    AuthSession,
    Job,
    JobStatus,
    MusicList,
    Play,
    Track,
    Upload,
    utcnow,
)
from plyr.errors import ServiceError
from plyr.jobs.queue import enqueue
from plyr.runtime import Runtime

log = logging.getLogger(__name__)

# plyr's record collections, by lexicon name under the configured namespace.
COLLECTIONS = ("track", "like", "comment", "list", "actor.profile")
# applyWrites takes at most this many writes per call at the reference PDS (200) and
# others; smaller batches keep each commit small.
BATCH = 100
CANCELLED = "cancelled: the account was deleted"


@dataclass(frozen=True, slots=True)
class DeletedAccount:
    did: str
    records_deleted: int
    jobs_cancelled: int
    files_queued: int


def _unreachable(exc: Exception) -> ServiceError:
    return ServiceError(
        503,
        "pds_unavailable",
        "your pds could not be reached to delete your records, so nothing was deleted; "
        "try again later, or delete your account without removing the records",
        [{"field": "also_records", "message": str(exc)[:300]}],
    )


async def delete_records(runtime: Runtime, repo: RepoClient) -> int:
    """Every record of plyr's collections in the user's repository, in batches."""
    deleted = 0
    for name in COLLECTIONS:
        collection = runtime.lexicons.collection(name)
        rkeys = [record.uri.rsplit("/", 1)[-1] async for record in repo.iter_records(collection)]
        for start in range(0, len(rkeys), BATCH):
            batch = rkeys[start : start + BATCH]
            writes: list[Write] = [Delete(collection, rkey) for rkey in batch]
            await repo.apply_writes(writes)
            deleted += len(writes)
    return deleted


async def delete_account(
    runtime: Runtime, did: str, session: AuthSession, *, also_records: bool
) -> DeletedAccount:
    """Delete `did`'s account; with `also_records`, their plyr records in their PDS too."""
    records = 0
    if also_records:
        try:
            repo = await repo_for(runtime, session)
            records = await delete_records(runtime, repo)
        except (XrpcError, SessionEnded, OSError) as exc:
            log.warning("account deletion: pds unreachable for %s: %s", did, exc)
            raise _unreachable(exc) from exc
        except Exception as exc:
            # httpx transport errors and the like: still "could not reach", never half-done.
            if type(exc).__module__.startswith(("httpx", "httpcore", "anyio")):
                raise _unreachable(exc) from exc
            raise

    async with runtime.sessions() as db:
        if await db.get(Artist, did) is None:
            raise ServiceError(404, "not_found", "there is no account to delete")
        keys: list[str] = []
        queries = (
            select(
                Track.original_key,
                Track.stream_key,
                Track.image_key,
                Track.thumbnail_key,
                Track.waveform_key,
            ).where(Track.artist_did == did),
            select(MusicList.image_key, MusicList.thumbnail_key).where(MusicList.did == did),
            select(Upload.incoming_audio_key, Upload.incoming_image_key).where(
                Upload.artist_did == did
            ),
        )
        for query in queries:
            for row in await db.execute(query):
                keys.extend(str(key) for key in row if key)
        now = utcnow()
        cancelled = await db.execute(
            update(Job)
            .where(
                Job.status.in_((JobStatus.queued, JobStatus.running)),
                Job.payload["did"].as_string() == did,
            )
            .values(
                status=JobStatus.failed,
                last_error=CANCELLED,
                finished_at=now,
                locked_by=None,
                locked_until=None,
                dedupe_key=None,
                updated_at=now,
            )
        )
        await db.execute(update(Play).where(Play.listener_did == did).values(listener_did=None))
        # ON DELETE CASCADE takes tracks, likes, comments, lists, sessions, preferences, the
        # queue, uploads and the profile with the artist row (a Core delete: the ORM would
        # try to detach the tracks instead).
        await db.execute(delete(Artist).where(Artist.did == did))
        unique_keys = list(dict.fromkeys(keys))
        if unique_keys:
            await enqueue(db, "track.delete", {"did": did, "rkey": None, "keys": unique_keys})
        await db.commit()
    log.info(
        "account deleted",
        extra={"did": did, "records": records, "files": len(unique_keys)},
    )
    jobs_cancelled = int(getattr(cancelled, "rowcount", 0) or 0)
    return DeletedAccount(did, records, jobs_cancelled, len(unique_keys))
