"""Taking likes, comments, lists and profiles to their owner's PDS without losing any.

A change to one of these rows is committed together with a `record.sync` job (one
transaction, `changed()` / `removed()`). The job makes the PDS match the index: if the row
exists its record is written under the row's pre-chosen rkey, if it is gone the record is
deleted. Running it twice, or after a crash, converges on the same result. A change made
while a sync is writing bumps `sync_version`, so the sync writes again instead of marking
an old version published.

A record that points at a track (a like, a comment, a list entry) waits until the track's
own record is in the PDS (a strongRef needs its CID); publishing a track resyncs what waits
for it (`track_published`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from plyr.atproto.repo import RepoClient
from plyr.auth.record_writes import pds_writes, write_problem
from plyr.auth.sessions import SessionEnded, repo_for, session_for
from plyr.db.models import (
    Comment,
    JobStatus,
    Like,
    ListItem,
    MusicList,
    RecordState,
    SyncedRecord,
)
from plyr.jobs.queue import enqueue
from plyr.jobs.registry import JobContext, PermanentJobError, job_handler
from plyr.runtime import Runtime

log = logging.getLogger(__name__)

JOB_KIND = "record.sync"
# A PDS may be down for a long while: with the backoff cap this keeps trying for days.
SYNC_MAX_ATTEMPTS = 40
# Writes racing with changes: after this many rewrites the job retries later instead.
MAX_REWRITES = 5

RecordBuilder = Callable[[AsyncSession, Runtime, Any], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class RecordKind:
    """One synced record type: its lexicon name (`like` → `<namespace>.like`), its index
    model, and how a row becomes a record (None while a track it points at is unpublished)."""

    name: str
    model: type[SyncedRecord]
    build: RecordBuilder


_kinds: dict[str, RecordKind] = {}


def record_kind(name: str, model: type[SyncedRecord]) -> Callable[[RecordBuilder], RecordBuilder]:
    """Register the record builder of one synced type."""

    def register(build: RecordBuilder) -> RecordBuilder:
        _kinds[name] = RecordKind(name, model, build)
        return build

    return register


def kind_named(name: str) -> RecordKind:
    try:
        return _kinds[name]
    except KeyError:
        raise PermanentJobError(f"no synced record type {name!r}") from None


def kind_of(row: SyncedRecord) -> RecordKind:
    for kind in _kinds.values():
        if isinstance(row, kind.model):
            return kind
    raise LookupError(f"{type(row).__name__} is not a synced record type")


def registered() -> list[RecordKind]:
    return list(_kinds.values())


def dedupe_key(kind: str, did: str, rkey: str) -> str:
    return f"sync:{kind}:{did}:{rkey}"[:256]


# Follow-up keys tried when the record's sync job is already running (see _enqueue_sync).
FOLLOW_UP_SLOTS = 8


async def _enqueue_sync(
    db: AsyncSession, kind: str, did: str, rkey: str, session_id: str | None
) -> None:
    """A sync job that will see this change. A queued one will (it has not read the row),
    and so will one that has not yet checked its version (the caller flushed the row
    first, so that check waits for this commit). A running one may have checked already
    and be about to finish: then a follow-up job under the next key writes the change."""
    key = dedupe_key(kind, did, rkey)
    for slot in range(FOLLOW_UP_SLOTS):
        job = await enqueue(
            db,
            JOB_KIND,
            {"kind": kind, "did": did, "rkey": rkey, "session_id": session_id},
            dedupe_key=key if slot == 0 else f"{key[:248]}#{slot + 1}",
            max_attempts=SYNC_MAX_ATTEMPTS,
        )
        if job.status != JobStatus.running:
            return


async def changed(db: AsyncSession, row: SyncedRecord, session_id: str | None = None) -> None:
    """Mark a new or changed row as waiting for its PDS and enqueue the write (caller commits)."""
    if row.sync_version is None:
        row.sync_version = 1
    else:
        row.sync_version += 1
    row.record_state = RecordState.pending
    # Written even when the row was loaded as pending: a sync job may have marked it
    # published since (its version check passed before this change reached the row), and
    # an UPDATE leaving record_state out would keep that "published" over stale content.
    flag_modified(row, "record_state")
    row.record_error = None
    await db.flush()
    await _enqueue_sync(db, kind_of(row).name, row.did, row.rkey, session_id)


async def removed(
    db: AsyncSession, kind: str, did: str, rkey: str, session_id: str | None = None
) -> None:
    """After deleting a row: enqueue the deletion of its record (caller commits)."""
    await _enqueue_sync(db, kind, did, rkey, session_id)


async def track_published(db: AsyncSession, track_id: int) -> int:
    """A track's record is in the PDS (again): resync the likes and comments waiting for it
    and every list that holds it (lists carry the track's current CID)."""
    count = 0
    for model in (Like, Comment):
        rows = await db.execute(
            select(model.did, model.rkey).where(
                model.track_id == track_id, model.record_state == RecordState.pending
            )
        )
        for did, rkey in rows:
            await _enqueue_sync(db, kind_of_model(model), did, rkey, None)
            count += 1
    lists = await db.execute(
        select(MusicList)
        .where(MusicList.id.in_(select(ListItem.list_id).where(ListItem.track_id == track_id)))
        .distinct()
    )
    for music_list in lists.scalars():
        await changed(db, music_list)
        count += 1
    return count


def kind_of_model(model: type[SyncedRecord]) -> str:
    for kind in _kinds.values():
        if kind.model is model:
            return kind.name
    raise LookupError(f"{model.__name__} is not a synced record type")


# --- the job ----------------------------------------------------------------------------


async def _set_state(
    runtime: Runtime, kind: RecordKind, did: str, rkey: str, **values: Any
) -> None:
    async with runtime.sessions() as db:
        model = kind.model
        await db.execute(update(model).where(model.did == did, model.rkey == rkey).values(**values))
        await db.commit()


@job_handler(JOB_KIND)
async def sync_record(ctx: JobContext) -> dict[str, Any] | None:
    runtime: Runtime = ctx.services["runtime"]
    kind = kind_named(str(ctx.payload["kind"]))
    did, rkey = str(ctx.payload["did"]), str(ctx.payload["rkey"])
    try:
        return await _sync(runtime, kind, did, rkey, ctx.payload.get("session_id"))
    except PermanentJobError as exc:
        await _set_state(
            runtime, kind, did, rkey, record_state=RecordState.failed, record_error=str(exc)
        )
        raise
    except Exception as exc:
        message = write_problem(exc)
        state = {"record_state": RecordState.failed} if ctx.last_attempt else {}
        suffix = "" if ctx.last_attempt else "; retrying"
        await _set_state(runtime, kind, did, rkey, record_error=message + suffix, **state)
        raise


async def _repo(runtime: Runtime, did: str, session_id: str | None) -> RepoClient:
    session = await session_for(runtime, did, session_id)
    if session is None:
        raise SessionEnded("no live session")
    return await repo_for(runtime, session)


@dataclass(frozen=True)
class _Built:
    record: dict[str, Any] | None  # None: the row is gone, so is to be its record
    version: int | None


async def _build(runtime: Runtime, kind: RecordKind, did: str, rkey: str) -> _Built | None:
    """What the row stands for now; None while a track it points at is unpublished."""
    model = kind.model
    async with runtime.sessions() as db:
        row = await db.scalar(select(model).where(model.did == did, model.rkey == rkey))
        if row is None:
            return _Built(None, None)
        version = row.sync_version
        record = await kind.build(db, runtime, row)
        if record is None:
            return None
        await db.commit()  # builders may note what they pointed at (subject CIDs)
        return _Built(record, version)


async def _sync(
    runtime: Runtime, kind: RecordKind, did: str, rkey: str, session_id: str | None
) -> dict[str, Any] | None:
    collection = runtime.lexicons.collection(kind.name)
    model = kind.model
    stamp = getattr(model, "updated_at", None)
    repo: RepoClient | None = None
    for _ in range(MAX_REWRITES):
        try:
            built = await _build(runtime, kind, did, rkey)
        except StaleDataError:
            # The row changed or vanished (an unlike right after the like) between reading
            # it and noting what it points at: a normal race, read it again.
            continue
        if built is None:
            return {"waiting": "a track it points at is not published yet"}
        record, version = built.record, built.version
        repo = repo or await _repo(runtime, did, session_id)
        if record is None:
            await repo.delete_record(collection, rkey)
            return {"deleted": f"at://{did}/{collection}/{rkey}"}
        async with pds_writes():
            ref = await repo.put_record(collection, rkey, record)
        async with runtime.sessions() as db:
            done = await db.execute(
                update(model)
                .where(model.did == did, model.rkey == rkey, model.sync_version == version)
                .values(
                    record_state=RecordState.published,
                    record_error=None,
                    atproto_uri=ref.uri,
                    atproto_cid=ref.cid,
                    # A write that changed nothing made no commit: the last revision stands.
                    **({"atproto_rev": ref.rev} if ref.rev else {}),
                    # Publishing is no change of the user's: the row keeps the time its record
                    # says (updatedAt), as a rebuild from the network will (no onupdate "now").
                    **({"updated_at": stamp} if stamp is not None else {}),
                )
            )
            await db.commit()
        if getattr(done, "rowcount", 0) == 1:
            return {"uri": ref.uri, "cid": ref.cid}
        # Changed (or deleted) while we wrote: go round again with what is there now.
    raise RuntimeError("the record kept changing while it was written; trying again later")
