"""Waiting for plyr's durable jobs instead of sleeping: until every job enqueued since a
point has finished (none queued — even waiting out a backoff — or running)."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from plyr.db.models import Job, JobStatus


async def last_job_id(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as db:
        return int(await db.scalar(select(func.max(Job.id))) or 0)


async def unfinished_jobs(sessions: async_sessionmaker[AsyncSession], after_id: int) -> int:
    async with sessions() as db:
        count = await db.scalar(
            select(func.count(Job.id)).where(
                Job.id > after_id, Job.status.in_([JobStatus.queued, JobStatus.running])
            )
        )
    return int(count or 0)


async def jobs_settled(
    sessions: async_sessionmaker[AsyncSession], after_id: int, *, seconds: float = 90
) -> list[tuple[str, str | None]]:
    """Wait until the jobs enqueued after `after_id` have all finished; the (kind, error)
    of those that failed for good. A job commits its follow-ups before it is marked
    finished, so no follow-up can slip between two looks."""
    async with asyncio.timeout(seconds):
        while True:
            if not await unfinished_jobs(sessions, after_id):
                break
            await asyncio.sleep(0.2)
    async with sessions() as db:
        failed = await db.execute(
            select(Job.kind, Job.last_error).where(
                Job.id > after_id, Job.status == JobStatus.failed
            )
        )
    return [(kind, error) for kind, error in failed]


async def jobs_retried(
    sessions: async_sessionmaker[AsyncSession], after_id: int, *, attempts: int, seconds: float = 60
) -> None:
    """Wait until every unfinished job enqueued after `after_id` has been tried `attempts`
    times (each failed and went back to the queue): a long outage, counted in retries."""
    async with asyncio.timeout(seconds):
        while True:
            async with sessions() as db:
                fewest = await db.scalar(
                    select(func.min(Job.attempts)).where(
                        Job.id > after_id, Job.status.in_([JobStatus.queued, JobStatus.running])
                    )
                )
            if fewest is not None and fewest >= attempts:
                return
            await asyncio.sleep(0.2)
