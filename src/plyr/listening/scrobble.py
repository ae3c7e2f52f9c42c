"""teal.fm scrobbles: each counted play of a listener who turned scrobbling on becomes an
`fm.teal.alpha.feed.play` record in their PDS, and their `fm.teal.alpha.actor.status`
(key `self`) says what they listen to.

Scrobbling is on when one of the listener's live sessions was granted the teal.fm scopes
(turning it on is a scope upgrade; see plyr.web.settings_pages). `enqueue_scrobble` runs
inside the transaction that stores the Play row, so the job exists exactly when the play
was counted. The record key is a TID made from the listen's start time (and a clock id
from the listen id): a retry, or the job running twice, rewrites the same record.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from plyr import __version__
from plyr.atproto.repo import RepoClient
from plyr.atproto.tid import MAX_CLOCK_ID, tid_from_time
from plyr.auth.client import scrobble_scopes
from plyr.auth.record_writes import pds_writes
from plyr.auth.sessions import granted_session, repo_for
from plyr.config import Settings
from plyr.db.models import AuthSession, Track
from plyr.jobs.queue import enqueue
from plyr.jobs.registry import JobContext, PermanentJobError, job_handler
from plyr.runtime import Runtime

log = logging.getLogger(__name__)

JOB_KIND = "teal.scrobble"
# A PDS may be down for a while; with the backoff cap this keeps trying for about a day.
SCROBBLE_MAX_ATTEMPTS = 20
STATUS_RKEY = "self"
STATUS_LIFETIME = timedelta(minutes=10)


def scrobbling_granted(settings: Settings, scope: str | None) -> bool:
    """Whether a grant's scope string includes every teal.fm scope plyr asks for."""
    return set(scrobble_scopes(settings)) <= set((scope or "").split())


async def scrobbling_session(
    db: AsyncSession, settings: Settings, did: str, preferred_id: str | None = None
) -> AuthSession | None:
    """A live session of `did` that may write teal.fm records: `preferred_id` when it still
    qualifies, else the most recently used one; None when scrobbling is off."""
    return await granted_session(
        db, did, lambda scope: scrobbling_granted(settings, scope), preferred_id
    )


def play_rkey(played_at: datetime, listen_id: str) -> str:
    """The play record's key: a TID of the listen's start time, the same for every retry."""
    clock_id = int.from_bytes(hashlib.sha256(listen_id.encode()).digest()[:2]) % (MAX_CLOCK_ID + 1)
    return tid_from_time(played_at, clock_id)


def atproto_datetime(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and a Z, the form every ATProto reader accepts."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def enqueue_scrobble(
    db: AsyncSession,
    settings: Settings,
    *,
    track_id: int,
    listener_did: str,
    listen_id: str,
    started_at: float,
) -> bool:
    """In the transaction that counts a play: enqueue its scrobble when the listener has
    scrobbling on. Returns whether a job was added (the caller commits)."""
    session = await scrobbling_session(db, settings, listener_did)
    if session is None:
        return False
    played_at = datetime.fromtimestamp(started_at, UTC)
    rkey = play_rkey(played_at, listen_id)
    await enqueue(
        db,
        JOB_KIND,
        {
            "did": listener_did,
            "track_id": track_id,
            "rkey": rkey,
            "played_time": atproto_datetime(played_at),
            "session_id": session.id,
        },
        dedupe_key=f"scrobble:{listener_did}:{rkey}"[:256],
        max_attempts=SCROBBLE_MAX_ATTEMPTS,
    )
    return True


def play_record(settings: Settings, track: Track, played_time: str) -> dict[str, Any]:
    """The `fm.teal.alpha.feed.play` fields (also the status's play view) for a track."""
    record: dict[str, Any] = {
        "trackName": track.title[:256],
        "artists": [{"artistName": track.artist_name[:256]}],
    }
    if track.duration_seconds is not None:
        record["duration"] = int(track.duration_seconds)
    if track.album:
        record["releaseName"] = track.album[:256]
    public = settings.public_url.rstrip("/")
    record["originUrl"] = f"{public}/tracks/{track.id}"
    record["musicServiceBaseDomain"] = urlsplit(public).hostname or public
    record["submissionClientAgent"] = f"plyr/{__version__}"
    record["playedTime"] = played_time
    return record


def status_record(play: dict[str, Any], played_at: datetime) -> dict[str, Any]:
    return {
        "time": atproto_datetime(played_at),
        "expiry": atproto_datetime(played_at + STATUS_LIFETIME),
        "item": play,
    }


@job_handler(JOB_KIND)
async def write_scrobble(ctx: JobContext) -> dict[str, Any] | None:
    runtime: Runtime = ctx.services["runtime"]
    settings = runtime.settings
    did, rkey = str(ctx.payload["did"]), str(ctx.payload["rkey"])
    played_time = str(ctx.payload["played_time"])
    played_at = datetime.fromisoformat(played_time.replace("Z", "+00:00"))
    async with runtime.sessions() as db:
        track = await db.get(Track, int(ctx.payload["track_id"]))
        session = await scrobbling_session(db, settings, did, ctx.payload.get("session_id"))
        if track is not None:
            db.expunge(track)
        if session is not None:
            db.expunge(session)
    if track is None:
        return {"skipped": "the track was deleted"}
    if session is None:
        raise PermanentJobError("scrobbling is off (no sign-in holds the teal.fm scopes)")
    # A lost grant retries: the next attempt takes another session, or finds scrobbling off.
    async with pds_writes():
        repo = await repo_for(runtime, session)
        play = play_record(settings, track, played_time)
        ref = await repo.put_record(settings.teal_play_collection, rkey, play)
        status = await _update_status(repo, settings, play, played_at)
    return {"uri": ref.uri, "cid": ref.cid, "status": status}


async def _update_status(
    repo: RepoClient, settings: Settings, play: dict[str, Any], played_at: datetime
) -> str:
    """Point the status at this play unless it already names a later one (a late retry
    must not turn back what the listener plays now)."""
    collection = settings.teal_status_collection
    existing = await repo.get_record(collection, STATUS_RKEY)
    if existing is not None:
        try:
            shown = datetime.fromisoformat(
                str(existing.value.get("time", "")).replace("Z", "+00:00")
            )
        except ValueError:
            shown = None
        if shown is not None and shown.tzinfo is not None and shown > played_at:
            return "kept (it shows a later play)"
    await repo.put_record(collection, STATUS_RKEY, status_record(play, played_at))
    return "updated"
