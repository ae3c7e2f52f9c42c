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


async def _existing(runtime: Runtime, ids: list[int], did: str) -> set[int]:
    """Which of `ids` a queue may hold: tracks that exist, taken down or not (a reversal
    brings them back), but not someone else's still processing."""
    if not ids:
        return set()
    async with runtime.sessions() as db:
        rows = await db.execute(
            select(Track.id).where(
                Track.id.in_(ids),
                or_(Track.publish_state != PublishState.processing, Track.artist_did == did),
            )
        )
        return set(rows.scalars())


async def _tracks(runtime: Runtime, ids: list[int], did: str) -> dict[int, Track]:
    """The queue's tracks that `did` may play: a taken-down track (or a hidden account's)
    drops out of other listeners' queues on read (its id stays stored); its artist keeps
    it."""
    if not ids:
        return {}
    async with runtime.sessions() as db:
        rows = await db.execute(
            select(Track).where(
                Track.id.in_(ids),
                Track.publish_state != PublishState.processing,
                or_(track_listed(), Track.artist_did == did),
            )
        )
        return {track.id: track for track in rows.scalars()}


def _view(
    revision: int, ids: list[int], current: int, found: dict[int, Track], position: int
) -> QueueState:
    """The stored queue as the listener sees it. `current` indexes the stored ids: the
    listener is on that track, or, when it is filtered out, on the next one they may play
    (the last one when none follows)."""
    shown = [i for i in ids if i in found]
    index = sum(1 for i in ids[:current] if i in found)
    return QueueState(
        revision, [found[i] for i in shown], min(index, max(len(shown) - 1, 0)), position
    )


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
    return _view(revision, ids, current, await _tracks(runtime, ids, did), position)


def _merged(
    stored: list[int], sent: list[tuple[int, int]], unseen: set[int]
) -> list[tuple[int, int]]:
    """The queue the client sent (`(index sent, id)` pairs) with the stored tracks it could
    not see (`unseen`: taken down, a hidden account's) kept where they were, after the
    track they followed (index -1): a client that read the filtered queue and writes it
    back must not drop them for good."""
    sent_ids = {i for _, i in sent}
    after: dict[int | None, list[int]] = {}
    previous: int | None = None
    for i in stored:
        if i in unseen and i not in sent_ids:
            after.setdefault(previous, []).append(i)
        elif i in sent_ids:
            previous = i
    if not after:
        return sent
    merged = [(-1, i) for i in after.pop(None, [])]
    for index, i in sent:
        merged.append((index, i))
        merged += [(-1, j) for j in after.pop(i, [])]
    return merged


async def put_queue(
    runtime: Runtime,
    did: str,
    *,
    revision: int,
    track_ids: list[int],
    current: int,
    position_ms: int,
) -> QueueState:
    """Replace the queue if `revision` is still the latest; StaleQueue otherwise.

    `current` indexes `track_ids`. Filtering happens on read only: ids of taken-down tracks
    stay stored, so a restore puts them back in the queue."""
    if len(track_ids) > MAX_QUEUE:
        raise ServiceError(422, "invalid_input", f"a queue holds at most {MAX_QUEUE} tracks")
    exists = await _existing(runtime, track_ids, did)
    sent = [(index, i) for index, i in enumerate(track_ids) if i in exists]
    async with runtime.sessions() as db:
        row = await db.get(PlayQueue, did)
        stored = list(row.track_ids) if row is not None and row.revision == revision else []
    if stored:
        visible = await _tracks(runtime, stored, did)
        sent = _merged(stored, sent, {i for i in stored if i not in visible})[:MAX_QUEUE]
    ids = [i for _, i in sent]
    # The track the client is on, or the next one that exists (the last when none does).
    at = next((n for n, (index, _) in enumerate(sent) if index >= current), len(ids) - 1)
    at = max(at, 0)
    values = {
        "track_ids": ids,
        "current": at,
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
    found = await _tracks(runtime, ids, did)
    return _view(revision + 1, ids, at, found, max(0, position_ms))


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
