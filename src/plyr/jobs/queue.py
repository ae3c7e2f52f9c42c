"""The durable queue: enqueue inside the caller's transaction, claim with a lease, finish.

Life cycle: queued → running (claimed, lease held) → succeeded | queued again with
backoff | failed. A worker that dies stops renewing its lease; once the lease runs
out another worker claims the job again. Every write a worker makes is fenced by
`locked_by`, so a worker that lost its lease cannot overwrite the new owner's work.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, event, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from plyr.db.models import Job, JobStatus, utcnow
from plyr.jobs.registry import default_max_attempts

MAX_ERROR_CHARS = 4000
_ENQUEUED_FLAG = "plyr.jobs.enqueued"
_local_wakeups: set[asyncio.Event] = set()


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


class LeaseLost(Exception):
    """The worker no longer owns the job (its lease ran out and another worker took it)."""


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    max_attempts: int | None = None,
    dedupe_key: str | None = None,
) -> Job:
    """Add a job to the caller's transaction: it exists exactly when the caller commits.

    With `dedupe_key`, an unfinished job with the same key is returned instead of a new one.
    Without `max_attempts`, the kind's handler decides (`job_handler(max_attempts=…)`).
    """
    job = Job(
        kind=kind,
        payload=payload or {},
        run_at=run_at or utcnow(),
        dedupe_key=dedupe_key,
        status=JobStatus.queued,
        attempts=0,
        progress=0.0,
    )
    if max_attempts is None:
        max_attempts = default_max_attempts(kind)
    if max_attempts is not None:
        job.max_attempts = max_attempts
    if dedupe_key is None:
        session.add(job)
        await session.flush()
    else:
        existing = await _find_by_key(session, dedupe_key)
        if existing is not None:
            return existing
        try:
            async with session.begin_nested():
                session.add(job)
        except IntegrityError:
            # Another transaction enqueued the same key between our look and our insert.
            existing = await _find_by_key(session, dedupe_key)
            if existing is None:
                raise
            return existing
    session.sync_session.info[_ENQUEUED_FLAG] = True
    return job


async def _find_by_key(session: AsyncSession, key: str) -> Job | None:
    result = await session.execute(select(Job).where(Job.dedupe_key == key))
    return result.scalar_one_or_none()


@event.listens_for(Session, "after_commit")
def _wake_local_workers(session: Session) -> None:
    # Workers in this process start at once instead of waiting for their next poll.
    if session.info.pop(_ENQUEUED_FLAG, False):
        for wakeup in list(_local_wakeups):
            wakeup.set()


@event.listens_for(Session, "after_rollback")
def _forget_enqueued(session: Session) -> None:
    session.info.pop(_ENQUEUED_FLAG, None)


def register_wakeup(wakeup: asyncio.Event) -> None:
    _local_wakeups.add(wakeup)


def unregister_wakeup(wakeup: asyncio.Event) -> None:
    _local_wakeups.discard(wakeup)


async def claim(
    session: AsyncSession, worker_id: str, *, limit: int, lease_seconds: float
) -> list[ClaimedJob]:
    """Take up to `limit` due jobs for `worker_id` and commit.

    One UPDATE … RETURNING does the claim, so two workers can never take the same row:
    PostgreSQL skips rows another claimant has locked (FOR UPDATE SKIP LOCKED); SQLite
    runs one writer at a time, so the statement is a single claimant by construction.
    """
    now = utcnow()
    # Jobs whose worker vanished too often are failed rather than claimed forever.
    await session.execute(
        update(Job)
        .where(
            Job.status == JobStatus.running,
            Job.locked_until < now,
            Job.attempts >= Job.max_attempts,
        )
        .values(
            status=JobStatus.failed,
            last_error="the worker running this job stopped (lease expired) on the last attempt",
            locked_by=None,
            locked_until=None,
            dedupe_key=None,
            finished_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    due = (
        select(Job.id)
        .where(
            or_(
                and_(Job.status == JobStatus.queued, Job.run_at <= now),
                and_(Job.status == JobStatus.running, Job.locked_until < now),
            )
        )
        .order_by(Job.run_at, Job.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    result = await session.execute(
        update(Job)
        .where(Job.id.in_(due.scalar_subquery()))
        .values(
            status=JobStatus.running,
            locked_by=worker_id,
            locked_until=now + timedelta(seconds=lease_seconds),
            attempts=Job.attempts + 1,
            started_at=now,
            updated_at=now,
        )
        .returning(Job.id, Job.kind, Job.payload, Job.attempts, Job.max_attempts)
        .execution_options(synchronize_session=False)
    )
    claimed = [ClaimedJob(*row) for row in result.all()]
    await session.commit()
    claimed.sort(key=lambda job: job.id)
    return claimed


async def _fenced_update(session: AsyncSession, job_id: int, worker_id: str, **values: Any) -> bool:
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.locked_by == worker_id, Job.status == JobStatus.running)
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def renew_lease(
    session: AsyncSession,
    job_id: int,
    worker_id: str,
    lease_seconds: float,
    **progress: Any,
) -> None:
    """Extend the lease (and record progress); raise LeaseLost if the job is not ours."""
    until = utcnow() + timedelta(seconds=lease_seconds)
    if not await _fenced_update(session, job_id, worker_id, locked_until=until, **progress):
        raise LeaseLost(f"job {job_id} is no longer held by {worker_id}")


async def complete(
    session: AsyncSession, job_id: int, worker_id: str, result: dict[str, Any] | None
) -> bool:
    now = utcnow()
    return await _fenced_update(
        session,
        job_id,
        worker_id,
        status=JobStatus.succeeded,
        result=result,
        progress=1.0,
        last_error=None,
        locked_by=None,
        locked_until=None,
        dedupe_key=None,
        finished_at=now,
    )


def backoff_seconds(attempt: int, *, base: float, cap: float) -> float:
    """Exponential backoff with ±20 % jitter so failed jobs do not retry in lockstep."""
    raw = base * float(2 ** max(0, attempt - 1))
    return min(cap, raw * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not secrecy


async def fail(
    session: AsyncSession,
    job: ClaimedJob,
    worker_id: str,
    error: str,
    *,
    permanent: bool,
    backoff_base: float,
    backoff_cap: float,
) -> JobStatus:
    """Record a failed attempt: retry later with backoff, or fail for good."""
    now = utcnow()
    error = error[:MAX_ERROR_CHARS]
    if permanent or job.attempts >= job.max_attempts:
        await _fenced_update(
            session,
            job.id,
            worker_id,
            status=JobStatus.failed,
            last_error=error,
            locked_by=None,
            locked_until=None,
            dedupe_key=None,
            finished_at=now,
        )
        return JobStatus.failed
    delay = backoff_seconds(job.attempts, base=backoff_base, cap=backoff_cap)
    await _fenced_update(
        session,
        job.id,
        worker_id,
        status=JobStatus.queued,
        last_error=error,
        locked_by=None,
        locked_until=None,
        run_at=now + timedelta(seconds=delay),
    )
    return JobStatus.queued


async def release(session: AsyncSession, job_id: int, worker_id: str) -> bool:
    """Hand a job back untouched (graceful shutdown): the interrupted try does not count."""
    return await _fenced_update(
        session,
        job_id,
        worker_id,
        status=JobStatus.queued,
        attempts=Job.attempts - 1,
        locked_by=None,
        locked_until=None,
        run_at=utcnow(),
    )


async def expire_leases_of(session: AsyncSession, worker_ids: list[str]) -> int:
    """Make jobs of workers known to be dead claimable now rather than at lease expiry."""
    if not worker_ids:
        return 0
    result = await session.execute(
        update(Job)
        .where(Job.status == JobStatus.running, Job.locked_by.in_(worker_ids))
        .values(locked_until=utcnow() - timedelta(seconds=1))
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


async def running_worker_ids(session: AsyncSession) -> list[str]:
    result = await session.execute(
        select(Job.locked_by).where(Job.status == JobStatus.running).distinct()
    )
    return [worker for worker in result.scalars() if worker]


async def retry_failed(session: AsyncSession, job_id: int) -> bool:
    """Operator action: put a failed job back in the queue with a fresh set of attempts."""
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.failed)
        .values(status=JobStatus.queued, attempts=0, run_at=utcnow(), finished_at=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
