"""How fast the durable job queue moves work, on SQLite and on PostgreSQL.

For each backend it migrates a fresh database, then measures:

- enqueue: jobs committed per second (one transaction per batch of 100);
- claim+complete: jobs claimed and marked done per second by N concurrent claimers
  calling the queue directly (batch sizes 1 and 10), the cost of the queue itself;
- worker: jobs per second through `Worker` with a no-op handler, the path real jobs take.

Usage: uv run python bench/jobs_claim.py [--jobs 2000] [--backends sqlite,postgresql]
PostgreSQL comes from PLYR_BENCH_POSTGRES_URL (default postgres@127.0.0.1:5432); a
temporary database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from plyr.db import migrate
from plyr.db.engine import create_engine, create_sessionmaker
from plyr.db.models import Job, JobStatus
from plyr.jobs import queue
from plyr.jobs.registry import JobContext, job_handler
from plyr.jobs.worker import Worker, WorkerOptions

ADMIN_URL = os.environ.get(
    "PLYR_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
BENCH_KIND = "bench.noop"


@job_handler(BENCH_KIND)
async def _noop(ctx: JobContext) -> dict[str, int]:
    return {"ok": 1}


@asynccontextmanager
async def database(backend: str) -> AsyncIterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        return
    admin = make_url(ADMIN_URL)
    name = f"plyr_bench_{uuid.uuid4().hex[:8]}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def enqueue_jobs(url: str, count: int, batch: int = 100) -> float:
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    started = time.perf_counter()
    for offset in range(0, count, batch):
        async with sessions() as session:
            for index in range(offset, min(count, offset + batch)):
                await queue.enqueue(session, BENCH_KIND, {"n": index})
            await session.commit()
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return count / elapsed


async def claim_and_complete(url: str, claimers: int, batch: int) -> tuple[float, int]:
    engine = create_engine(url, pool_size=claimers + 2)
    sessions = create_sessionmaker(engine)
    done = 0

    async def claimer(worker_id: str) -> None:
        nonlocal done
        while True:
            async with sessions() as session:
                jobs = await queue.claim(session, worker_id, limit=batch, lease_seconds=60)
                if not jobs:
                    return
                for job in jobs:
                    await queue.complete(session, job.id, worker_id, None)
                await session.commit()
                done += len(jobs)

    started = time.perf_counter()
    await asyncio.gather(*(claimer(f"bench-{i}") for i in range(claimers)))
    elapsed = time.perf_counter() - started
    async with sessions() as session:
        duplicates = await session.scalar(
            select(func.count()).select_from(Job).where(Job.attempts > 1)
        )
    await engine.dispose()
    return done / elapsed, int(duplicates or 0)


async def through_worker(url: str, concurrency: int) -> float:
    engine = create_engine(url, pool_size=concurrency + 4)
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        pending = await session.scalar(
            select(func.count()).select_from(Job).where(Job.status == JobStatus.queued)
        )
    worker = Worker(sessions, WorkerOptions(concurrency=concurrency, poll_seconds=0.05))
    started = time.perf_counter()
    await worker.run_until_idle(within=600)
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return int(pending or 0) / elapsed


async def bench_backend(backend: str, jobs: int) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    async with database(backend) as url:
        await migrate.upgrade_async(url)
        rate = await enqueue_jobs(url, jobs)
        rows.append(("enqueue (batches of 100)", f"{rate:,.0f} jobs/s"))
        for index, (claimers, batch) in enumerate(((1, 1), (4, 1), (4, 10))):
            if index:
                await enqueue_jobs(url, jobs)
            rate, dup = await claim_and_complete(url, claimers, batch)
            rows.append(
                (
                    f"claim+complete, {claimers} claimer(s), batch {batch}",
                    f"{rate:,.0f} jobs/s (jobs run twice: {dup})",
                )
            )
        for concurrency in (4, 16):
            await enqueue_jobs(url, jobs)
            rate = await through_worker(url, concurrency)
            rows.append(
                (f"Worker, concurrency {concurrency}, no-op handler", f"{rate:,.0f} jobs/s")
            )
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"jobs per measurement: {args.jobs}")
    for backend in args.backends.split(","):
        print(f"\n{backend}")
        for label, figure in await bench_backend(backend, args.jobs):
            print(f"  {label:<48} {figure}")


if __name__ == "__main__":
    asyncio.run(main())
