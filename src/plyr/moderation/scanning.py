"""The scanning jobs: `moderation.scan` fingerprints one published track, matches it against
the reference works and every other artist's tracks, and opens (or updates) a flag per match
over the threshold; `moderation.scan_works` matches newly imported works against what is
already on plyr; `moderation.backfill` enqueues a scan for every published track without a
fingerprint.

Between two tracks that sound alike, the newer upload is the one flagged (the older is its
`matched_track`), whichever of the two is scanned last. A re-scan updates an open flag's
score and ranges; it never reopens a decided one.

What is matched against is the process's index of this database (`index.py`).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.db.models import (
    FlagStatus,
    Job,
    ModerationFlag,
    PublishState,
    ReferenceWork,
    Track,
    TrackFingerprint,
    utcnow,
)
from plyr.db.visibility import AUDIO_READY
from plyr.jobs.queue import enqueue
from plyr.jobs.registry import JobContext, PermanentJobError, job_handler
from plyr.media.errors import MediaError
from plyr.media.fingerprint import Fingerprint, fingerprint_file
from plyr.moderation import audit
from plyr.moderation.acoustid import MatcherRejected, matcher_for
from plyr.moderation.index import current_index, index_state, same_artist_keys, stored
from plyr.moderation.matching import FingerprintIndex, LocalMatcher, Match, MatcherUnavailable
from plyr.runtime import Runtime
from plyr.storage.base import ObjectNotFound

log = logging.getLogger(__name__)

SCAN = "moderation.scan"
SCAN_WORKS = "moderation.scan_works"
BACKFILL = "moderation.backfill"
# How many tracks one imported work may flag: far more would be a bad reference.
MAX_WORK_MATCHES = 500
# Chromaprint needs a few seconds of audio; shorter tracks are not scanned (not an error).
MIN_SECONDS = 5


def scan_dedupe_key(track_id: int) -> str:
    return f"{SCAN}:{track_id}"


def _ranges(match: Match, *, swap: bool = False) -> list[dict[str, float]]:
    out = []
    for r in match.ranges:
        start, end, m_start, m_end = r.start, r.end, r.matched_start, r.matched_end
        if swap:
            start, end, m_start, m_end = m_start, m_end, start, end
        out.append(
            {
                "start": round(float(start), 2),
                "end": round(float(end), 2),
                "matched_start": round(float(m_start), 2),
                "matched_end": round(float(m_end), 2),
            }
        )
    return out


async def open_flag(
    db: AsyncSession,
    *,
    track_id: int,
    match_key: str,
    score: int,
    ranges: list[dict[str, float]],
    engine: str,
    work_id: int | None = None,
    matched_track_id: int | None = None,
) -> ModerationFlag | None:
    """Open a flag, or update an open one's score and ranges; a decided one is left alone.
    Returns the flag when it was opened."""
    score = max(0, min(100, score))
    existing = await db.scalar(
        select(ModerationFlag).where(
            ModerationFlag.track_id == track_id, ModerationFlag.match_key == match_key
        )
    )
    if existing is not None:
        if existing.status == FlagStatus.open:
            existing.score, existing.ranges, existing.engine = score, ranges, engine
        return None
    flag = ModerationFlag(
        track_id=track_id,
        match_key=match_key,
        reference_work_id=work_id,
        matched_track_id=matched_track_id,
        score=score,
        ranges=ranges,
        engine=engine,
        status=FlagStatus.open,
    )
    try:
        async with db.begin_nested():  # another scan may open the same flag meanwhile
            db.add(flag)
    except IntegrityError:
        return None
    audit.record(
        db,
        actor="system",
        action="flag.open",
        subject=f"flag:{flag.id}",
        track_id=track_id,
        match=match_key,
        score=score,
    )
    return flag


async def _download(runtime: Runtime, key: str, target: Path) -> None:
    async with await anyio.open_file(target, "wb") as handle:
        async for chunk in runtime.storage.get_range(key):
            await handle.write(chunk)


async def _fingerprint(runtime: Runtime, track: Track) -> Fingerprint:
    """The stored fingerprint, or a new one from the track's audio (stored)."""
    async with runtime.sessions() as db:
        row = await db.get(TrackFingerprint, track.id)
        if row is not None:
            return stored(row)
    tmp_dir = runtime.settings.data_dir / "tmp"
    await anyio.Path(tmp_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tmp_dir) as work:
        # The original decodes best; the stream copy is the fallback when it is gone.
        key = track.original_key
        if await runtime.storage.stat(key) is None and track.stream_key:
            key = track.stream_key
        source = Path(work) / "audio"
        try:
            await _download(runtime, key, source)
        except ObjectNotFound as exc:  # both copies gone: a retry finds nothing either
            raise PermanentJobError(f"track {track.id} has no audio in storage") from exc
        try:
            fp = await anyio.to_thread.run_sync(fingerprint_file, source)
        except MediaError as exc:
            raise PermanentJobError(f"can't fingerprint track {track.id}: {exc}") from exc
    async with runtime.sessions() as db:
        await db.merge(
            TrackFingerprint(
                track_id=track.id,
                duration_seconds=fp.duration,
                engine=fp.engine,
                fingerprint=fp.to_bytes(),
                created_at=utcnow(),
            )
        )
        try:
            await db.commit()
        except IntegrityError:  # the track was deleted meanwhile
            await db.rollback()
    return fp


async def _external_work(db: AsyncSession, match: Match, fp: Fingerprint) -> int:
    """The ReferenceWork standing for a web service's result (made on first sight), so the
    flag can point at it."""
    assert match.external is not None
    ext = match.external
    source = f"acoustid:{ext.external_id}"[:512]
    found = await db.scalar(select(ReferenceWork.id).where(ReferenceWork.source == source))
    if found is not None:
        return int(found)
    work = ReferenceWork(
        title=(ext.title or "unknown title")[:256],
        artist=(ext.artist or "unknown artist")[:256],
        rights_holder=None,
        source=source,
        duration_seconds=fp.duration,
        engine=fp.engine,
        fingerprint=b"",  # nothing to match locally: the service holds it
        created_by="system",
    )
    db.add(work)
    await db.flush()
    return work.id


async def _find(
    runtime: Runtime, index: FingerprintIndex, fp: Fingerprint, exclude: set[str]
) -> tuple[list[Match], Exception | None]:
    """The local index always (only it knows the reference works and plyr's tracks), and the
    web service too when the settings choose it. The service's failure is returned, not
    raised, so the local matches are stored first: `PermanentJobError` when retrying can't
    help (misconfigured, a 4xx), `MatcherUnavailable` (the job retries) otherwise."""
    threshold = runtime.settings.moderation_threshold
    matches = await LocalMatcher(index).find(fp, exclude=exclude, min_score=threshold)
    if runtime.settings.moderation_matcher == "chromaprint":
        return matches, None
    try:
        service = matcher_for(runtime.settings, index, runtime.http)
        matches += await service.find(fp, exclude=exclude, min_score=threshold)
    except (ValueError, MatcherRejected) as exc:
        failed = PermanentJobError(str(exc))
        failed.__cause__ = exc
        return matches, failed
    except MatcherUnavailable as exc:
        return matches, exc
    return matches, None


async def scan_track(runtime: Runtime, track_id: int) -> dict[str, Any]:
    """Fingerprint and match one track; returns what was opened. When the web service
    fails, what the local index found is committed before its error is raised."""
    settings = runtime.settings
    async with runtime.sessions() as db:
        track = await db.get(Track, track_id)
        if track is None or track.publish_state != PublishState.published:
            return {"skipped": "not published"}
        if track.audio_state != AUDIO_READY:  # a network track whose audio is not here (yet)
            return {"skipped": "no audio"}
        db.expunge(track)
    if track.duration_seconds is not None and track.duration_seconds < MIN_SECONDS:
        return {"skipped": "too short to fingerprint"}  # a jingle: nothing to compare
    fp = await _fingerprint(runtime, track)
    index = await current_index(runtime)
    state = index_state(runtime)
    own_key = f"track:{track.id}"
    if track.id not in state.tracks:
        index.add(own_key, fp)
        state.tracks[track.id] = track.artist_did
    exclude = same_artist_keys(runtime, track.artist_did) | {own_key}
    matches, failed = await _find(runtime, index, fp, exclude)
    opened: list[int] = []
    async with runtime.sessions() as db:
        for match in matches:
            if match.score < settings.moderation_threshold:
                continue
            flag = await _flag_for(db, track, match, fp)
            if flag is not None:
                opened.append(flag.id)
        await db.commit()
    log.info("scanned track %s: %d matches, %d flags opened", track_id, len(matches), len(opened))
    if failed is not None:
        raise failed
    return {"matches": len(matches), "opened": opened}


async def _flag_for(
    db: AsyncSession, track: Track, match: Match, fp: Fingerprint
) -> ModerationFlag | None:
    kind, _, ident = match.key.partition(":")
    if match.external is not None:
        work_id = await _external_work(db, match, fp)
        return await open_flag(
            db,
            track_id=track.id,
            match_key=f"work:{work_id}",
            score=match.score,
            ranges=_ranges(match),
            engine=fp.engine,
            work_id=work_id,
        )
    if kind == "work":
        return await open_flag(
            db,
            track_id=track.id,
            match_key=match.key,
            score=match.score,
            ranges=_ranges(match),
            engine=fp.engine,
            work_id=int(ident),
        )
    other = await db.get(Track, int(ident))
    if other is None or other.artist_did == track.artist_did:
        return None
    # The newer of the two is the copy.
    if (other.created_at, other.id) < (track.created_at, track.id):
        return await open_flag(
            db,
            track_id=track.id,
            match_key=f"track:{other.id}",
            score=match.score,
            ranges=_ranges(match),
            engine=fp.engine,
            matched_track_id=other.id,
        )
    return await open_flag(
        db,
        track_id=other.id,
        match_key=f"track:{track.id}",
        score=match.score,
        ranges=_ranges(match, swap=True),
        engine=fp.engine,
        matched_track_id=track.id,
    )


async def scan_works(runtime: Runtime, work_ids: Sequence[int]) -> dict[str, Any]:
    """Match imported works against the tracks already fingerprinted: flag what they hit."""
    index = await current_index(runtime)
    threshold = runtime.settings.moderation_threshold
    async with runtime.sessions() as db:
        works = (
            await db.scalars(select(ReferenceWork).where(ReferenceWork.id.in_(list(work_ids))))
        ).all()
        opened: list[int] = []
        for work in works:
            if not work.fingerprint:
                continue
            fp = stored(work)
            for match in index.search(fp, min_score=threshold, limit=MAX_WORK_MATCHES):
                kind, _, ident = match.key.partition(":")
                if kind != "track":
                    continue
                flag = await open_flag(
                    db,
                    track_id=int(ident),
                    match_key=f"work:{work.id}",
                    score=match.score,
                    ranges=_ranges(match, swap=True),
                    engine=work.engine,
                    work_id=work.id,
                )
                if flag is not None:
                    opened.append(flag.id)
        await db.commit()
    return {"opened": opened}


def _unscanned() -> Select[int]:
    """Published tracks without a fingerprint (too short ones aside), oldest first."""
    return (
        select(Track.id)
        .outerjoin(TrackFingerprint, TrackFingerprint.track_id == Track.id)
        .where(
            Track.publish_state == PublishState.published,
            Track.audio_state == AUDIO_READY,
            TrackFingerprint.track_id.is_(None),
            or_(Track.duration_seconds.is_(None), Track.duration_seconds >= MIN_SECONDS),
        )
        .order_by(Track.id)
    )


async def backfill_on_start(runtime: Runtime) -> bool:
    """A starting worker enqueues the backfill when published tracks have no fingerprint
    (tracks from before fingerprinting, after an upgrade): existing tracks get one without an
    operator's command. One cheap query when there are none."""
    if not runtime.settings.moderation_fingerprints:
        return False
    async with runtime.sessions() as db:
        if await db.scalar(_unscanned().limit(1)) is None:
            return False
        await enqueue(db, BACKFILL, {}, dedupe_key=BACKFILL)
        await db.commit()
    return True


async def enqueue_backfill(runtime: Runtime, *, actor: str = "system") -> int:
    """Enqueue a `moderation.scan` for every published track without a fingerprint (too
    short ones aside); the count enqueued. Audited: it is an operator's action."""
    async with runtime.sessions() as db:
        ids = (await db.scalars(_unscanned())).all()
        for track_id in ids:
            await enqueue(db, SCAN, {"track_id": track_id}, dedupe_key=scan_dedupe_key(track_id))
        audit.record(db, actor=actor, action="scan.backfill", subject="tracks", enqueued=len(ids))
        await db.commit()
    return len(ids)


async def request_backfill(runtime: Runtime, *, actor: str) -> tuple[int, bool]:
    """Enqueue the `moderation.backfill` job (it enqueues the scans) and return at once: its
    id, and False when one was already waiting (deduplicated). Audited as a request."""
    async with runtime.sessions() as db:
        waiting = await db.scalar(select(Job.id).where(Job.dedupe_key == BACKFILL))
        job = await enqueue(db, BACKFILL, {"actor": actor}, dedupe_key=BACKFILL)
        job_id = job.id
        audit.record(
            db, actor=actor, action="scan.backfill_requested", subject="tracks", job=job_id
        )
        await db.commit()
    return job_id, waiting is None


def _runtime(ctx: JobContext) -> Runtime:
    runtime: Runtime = ctx.services["runtime"]
    return runtime


@job_handler(SCAN)
async def scan_job(ctx: JobContext) -> dict[str, Any]:
    return await scan_track(_runtime(ctx), int(ctx.payload["track_id"]))


@job_handler(SCAN_WORKS)
async def scan_works_job(ctx: JobContext) -> dict[str, Any]:
    return await scan_works(_runtime(ctx), [int(i) for i in ctx.payload["work_ids"]])


@job_handler(BACKFILL)
async def backfill_job(ctx: JobContext) -> dict[str, Any]:
    actor = ctx.payload.get("actor")
    return {"enqueued": await enqueue_backfill(_runtime(ctx), actor=str(actor or "system"))}
