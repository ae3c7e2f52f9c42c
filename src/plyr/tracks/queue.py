"""The listener's play queue, kept per signed-in user with optimistic concurrency."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Text, cast, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.db.models import PlayQueue, PublishState, Track, utcnow
from plyr.db.visibility import track_listed
from plyr.errors import ServiceError
from plyr.runtime import Runtime

MAX_QUEUE = 500


@dataclass(frozen=True, slots=True)
class QueueState:
    revision: int
    tracks: list[Track]
    current: int
    position_ms: int


class StaleQueue(ServiceError):
    """The queue changed elsewhere since the caller read it."""

    def __init__(self, state: QueueState) -> None:
        super().__init__(409, "stale_queue", "the queue changed on another device; reloaded")
        self.state = state


async def _tracks(runtime: Runtime, ids: list[int], did: str) -> list[Track]:
    """The queue's tracks that `did` may play: a taken-down track (or a hidden account's)
    drops out of other listeners' queues on read; its artist keeps it."""
    if not ids:
        return []
    async with runtime.sessions() as db:
        rows = await db.execute(
            select(Track).where(
                Track.id.in_(ids),
                Track.publish_state != PublishState.processing,
                or_(track_listed(), Track.artist_did == did),
            )
        )
        found = {track.id: track for track in rows.scalars()}
    return [found[i] for i in ids if i in found]  # order kept; deleted tracks drop out


async def get_queue(runtime: Runtime, did: str) -> QueueState:
    async with runtime.sessions() as db:
        row = await db.get(PlayQueue, did)
        if row is None:
            return QueueState(0, [], 0, 0)
        revision, ids, current, position = (
            row.revision,
            list(row.track_ids),
            row.current,
            row.position_ms,
        )
    tracks = await _tracks(runtime, ids, did)
    return QueueState(revision, tracks, min(current, max(len(tracks) - 1, 0)), position)


async def put_queue(
    runtime: Runtime,
    did: str,
    *,
    revision: int,
    track_ids: list[int],
    current: int,
    position_ms: int,
) -> QueueState:
    """Replace the queue if `revision` is still the latest; StaleQueue otherwise."""
    if len(track_ids) > MAX_QUEUE:
        raise ServiceError(422, "invalid_input", f"a queue holds at most {MAX_QUEUE} tracks")
    tracks = await _tracks(runtime, track_ids, did)
    current = max(0, min(current, max(len(tracks) - 1, 0)))
    values = {
        "track_ids": [track.id for track in tracks],
        "current": current,
        "position_ms": max(0, position_ms),
        "updated_at": utcnow(),
    }
    async with runtime.sessions() as db:
        # Compare-and-set in one statement: correct on SQLite and PostgreSQL alike.
        if revision == 0:
            db.add(PlayQueue(did=did, revision=1, **values))
            try:
                await db.commit()
            except IntegrityError:
                await db.rollback()
                raise StaleQueue(await get_queue(runtime, did)) from None
        else:
            result = await db.execute(
                update(PlayQueue)
                .where(PlayQueue.did == did, PlayQueue.revision == revision)
                .values(revision=revision + 1, **values)
            )
            await db.commit()
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise StaleQueue(await get_queue(runtime, did))
    new_revision = revision + 1
    return QueueState(new_revision, tracks, current, max(0, position_ms))


async def drop_tracks(db: AsyncSession, track_ids: list[int]) -> int:
    """Take deleted tracks out of every saved queue, in the caller's transaction.

    Ids are never reused, so a stale id could only ever miss; taking it out now keeps the
    queue's positions true. The revision moves so another device reloads instead of
    writing the old list back. Returns how many queues changed.
    """
    gone = set(track_ids)
    if not gone:
        return 0
    # JSON lists cannot be searched the same way on both databases: the text match finds
    # candidates (it may over-match, 12 in 123), the exact check below decides.
    as_text = cast(PlayQueue.track_ids, Text)
    candidates = await db.execute(
        select(PlayQueue).where(or_(*(as_text.like(f"%{track_id}%") for track_id in gone)))
    )
    changed = 0
    for queue in candidates.scalars():
        ids = list(queue.track_ids)
        kept = [i for i in ids if i not in gone]
        if len(kept) == len(ids):
            continue
        # The current track stays current if it survives; otherwise the next one plays.
        before_current = sum(1 for i in ids[: queue.current] if i in gone)
        queue.track_ids = kept
        queue.current = max(0, min(queue.current - before_current, max(len(kept) - 1, 0)))
        queue.revision += 1
        queue.updated_at = utcnow()
        changed += 1
    return changed
