"""The durable job queue, on SQLite and PostgreSQL: the guarantees the rest of plyr relies on."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from plyr.db.engine import create_engine, create_sessionmaker
from plyr.db.models import Artist, Job, JobStatus, utcnow
from plyr.jobs import JobContext, PermanentJobError, enqueue, job_handler, queue
from plyr.jobs.worker import Worker, WorkerOptions, dead_local_workers
from plyr.runtime import Runtime

FAST = WorkerOptions(
    concurrency=4, poll_seconds=0.05, lease_seconds=30, backoff_base=0.01, backoff_cap=0.05
)
REPO_ROOT = Path(__file__).resolve().parent.parent

calls: collections.Counter[int] = collections.Counter()
flaky_failures: dict[int, int] = {}
gates: dict[int, asyncio.Event] = {}


@pytest.fixture(autouse=True)
def _fresh_counters() -> None:
    # Job ids restart per test once the tables are emptied.
    calls.clear()
    gates.clear()


@job_handler("test.record")
async def record(ctx: JobContext) -> dict[str, Any]:
    calls[ctx.job_id] += 1
    await asyncio.sleep(0.002)
    return {"seen": ctx.payload.get("n")}


@job_handler("test.flaky")
async def flaky(ctx: JobContext) -> dict[str, Any]:
    calls[ctx.job_id] += 1
    if calls[ctx.job_id] <= ctx.payload["fail_times"]:
        raise ConnectionError(f"pds unavailable (try {calls[ctx.job_id]})")
    return {"attempt": ctx.attempt}


@job_handler("test.broken_input")
async def broken_input(ctx: JobContext) -> None:
    calls[ctx.job_id] += 1
    raise PermanentJobError("the file is not audio")


@job_handler("test.gated")
async def gated(ctx: JobContext) -> None:
    await ctx.report("probe", 0.5, "reading tags")
    await gates[ctx.job_id].wait()


@job_handler("test.crashable")
async def crashable(ctx: JobContext) -> dict[str, Any]:
    # The in-process twin of tests/support/job_worker_proc.py's handler: this one finishes.
    return {"resumed_on_attempt": ctx.attempt}


async def _job(runtime: Runtime, job_id: int) -> Job:
    async with runtime.sessions() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def _enqueue(
    runtime: Runtime, kind: str, payload: dict[str, Any] | None = None, **kw: Any
) -> int:
    async with runtime.sessions() as session:
        job = await enqueue(session, kind, payload, **kw)
        await session.commit()
        return job.id


async def test_job_exists_only_if_its_transaction_commits(runtime: Runtime) -> None:
    async with runtime.sessions() as session:
        session.add(Artist(did="did:plc:rolledback", handle="gone.test", pds_url="http://pds"))
        await enqueue(session, "test.record", {"n": 1})
        await session.rollback()
    async with runtime.sessions() as session:
        session.add(Artist(did="did:plc:kept", handle="kept.test", pds_url="http://pds"))
        await enqueue(session, "test.record", {"n": 2})
        await session.commit()
    async with runtime.sessions() as session:
        jobs = (await session.execute(select(Job))).scalars().all()
        artists = (await session.execute(select(Artist.did))).scalars().all()
    assert [job.payload for job in jobs] == [{"n": 2}]
    assert artists == ["did:plc:kept"]


async def test_enqueue_with_dedupe_key_returns_the_unfinished_job(runtime: Runtime) -> None:
    first = await _enqueue(runtime, "test.record", {"n": 1}, dedupe_key="publish:track:1")
    second = await _enqueue(runtime, "test.record", {"n": 2}, dedupe_key="publish:track:1")
    assert first == second
    await Worker(runtime.sessions, FAST).run_until_idle()
    # Once finished, the key is free again.
    third = await _enqueue(runtime, "test.record", {"n": 3}, dedupe_key="publish:track:1")
    assert third != first


async def test_retries_with_backoff_until_success(runtime: Runtime) -> None:
    job_id = await _enqueue(runtime, "test.flaky", {"fail_times": 2})
    # A backoff long enough that the first run cannot retry, however slow the machine.
    patient = replace(FAST, backoff_base=30, backoff_cap=30)
    await Worker(runtime.sessions, patient).run_until_idle()
    job = await _job(runtime, job_id)
    assert job.status == JobStatus.queued
    assert job.attempts == 1
    assert job.last_error == "ConnectionError: pds unavailable (try 1)"
    assert job.run_at > utcnow() + timedelta(seconds=20)  # waits out its backoff
    async with runtime.sessions() as session:  # let the backoff pass
        await session.execute(update(Job).where(Job.id == job_id).values(run_at=utcnow()))
        await session.commit()
    worker = Worker(runtime.sessions, FAST)
    deadline = time.monotonic() + 10
    while (await _job(runtime, job_id)).status != JobStatus.succeeded:
        assert time.monotonic() < deadline, "the job never succeeded"
        await worker.run_until_idle()
        await asyncio.sleep(0.02)
    job = await _job(runtime, job_id)
    assert job.attempts == 3
    assert calls[job_id] == 3
    assert job.result == {"attempt": 3}
    assert job.last_error is None
    assert job.finished_at is not None
    assert job.locked_by is None


async def test_failure_is_permanent_after_max_attempts(runtime: Runtime) -> None:
    job_id = await _enqueue(runtime, "test.flaky", {"fail_times": 99}, max_attempts=3)
    worker = Worker(runtime.sessions, FAST)
    deadline = time.monotonic() + 10
    while (await _job(runtime, job_id)).status != JobStatus.failed:
        assert time.monotonic() < deadline
        await worker.run_until_idle()
        await asyncio.sleep(0.02)
    job = await _job(runtime, job_id)
    assert job.attempts == 3
    assert calls[job_id] == 3
    assert job.last_error == "ConnectionError: pds unavailable (try 3)"
    assert job.finished_at is not None
    # Nothing picks a failed job up again.
    await worker.run_until_idle()
    assert calls[job_id] == 3


async def test_permanent_error_fails_at_once_and_unknown_kinds_fail(runtime: Runtime) -> None:
    bad = await _enqueue(runtime, "test.broken_input")
    unknown = await _enqueue(runtime, "test.no_such_kind")
    await Worker(runtime.sessions, FAST).run_until_idle()
    bad_job, unknown_job = await _job(runtime, bad), await _job(runtime, unknown)
    assert (bad_job.status, bad_job.attempts, bad_job.last_error) == (
        JobStatus.failed,
        1,
        "the file is not audio",
    )
    assert calls[bad] == 1
    assert unknown_job.status == JobStatus.failed
    assert unknown_job.last_error == "no handler for job kind 'test.no_such_kind'"


def test_backoff_grows_exponentially_and_is_capped() -> None:
    for attempt, nominal in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0)]:
        delay = queue.backoff_seconds(attempt, base=2.0, cap=600)
        assert nominal * 0.8 <= delay <= nominal * 1.2
    assert queue.backoff_seconds(30, base=2.0, cap=600) == 600


async def test_concurrent_claims_never_share_a_job(runtime: Runtime, db_url: str) -> None:
    async with runtime.sessions() as session:
        for n in range(60):
            await enqueue(session, "test.record", {"n": n})
        await session.commit()
    # Separate engines: separate connections, as separate processes would have.
    engines = [create_engine(db_url) for _ in range(6)]
    try:

        async def claimer(index: int) -> list[int]:
            sessions = create_sessionmaker(engines[index])
            taken: list[int] = []
            while True:
                async with sessions() as session:
                    jobs = await queue.claim(session, f"claimer-{index}", limit=3, lease_seconds=60)
                if not jobs:
                    return taken
                taken.extend(job.id for job in jobs)

        results = await asyncio.gather(*(claimer(i) for i in range(6)))
    finally:
        for engine in engines:
            await engine.dispose()
    every = [job_id for taken in results for job_id in taken]
    assert len(every) == 60
    assert len(set(every)) == 60, "a job was claimed twice"
    assert sum(1 for taken in results if taken) >= 2, "one claimer took everything"


async def test_two_workers_never_run_the_same_job(runtime: Runtime, db_url: str) -> None:
    async with runtime.sessions() as session:
        ids = [(await enqueue(session, "test.record", {"n": n})).id for n in range(120)]
        await session.commit()
    engines = [create_engine(db_url), create_engine(db_url)]
    ran_by: collections.Counter[str] = collections.Counter()
    try:
        workers = [
            Worker(create_sessionmaker(engine), FAST, worker_id=f"w{i}")
            for i, engine in enumerate(engines)
        ]
        await asyncio.gather(*(worker.run_until_idle(within=60) for worker in workers))
    finally:
        for engine in engines:
            await engine.dispose()
    assert all(calls[job_id] == 1 for job_id in ids), "a job ran twice or never"
    async with runtime.sessions() as session:
        rows = (await session.execute(select(Job.status, Job.attempts, Job.result))).all()
    assert {(status, attempts) for status, attempts, _ in rows} == {(JobStatus.succeeded, 1)}
    assert sorted(result["seen"] for _, _, result in rows) == list(range(120))
    for job_id in ids:
        ran_by[str(job_id % 2)] += 1
    assert sum(ran_by.values()) == 120


async def test_progress_is_recorded_while_running(runtime: Runtime) -> None:
    job_id = await _enqueue(runtime, "test.gated")
    gates[job_id] = asyncio.Event()
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(runtime.sessions, FAST).run(stop))
    try:
        deadline = time.monotonic() + 10
        while (job := await _job(runtime, job_id)).phase != "probe":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        assert job.status == JobStatus.running
        assert (job.progress, job.message) == (0.5, "reading tags")
        gates[job_id].set()
        while (job := await _job(runtime, job_id)).status != JobStatus.succeeded:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        assert job.progress == 1.0
    finally:
        stop.set()
        await task


async def test_graceful_stop_hands_running_jobs_back(runtime: Runtime) -> None:
    job_id = await _enqueue(runtime, "test.gated")
    gates[job_id] = asyncio.Event()  # never set: the job is still running at stop
    options = WorkerOptions(
        concurrency=1, poll_seconds=0.05, lease_seconds=30, shutdown_grace_seconds=0.1
    )
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(runtime.sessions, options).run(stop))
    deadline = time.monotonic() + 10
    while (await _job(runtime, job_id)).status != JobStatus.running:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    stop.set()
    await task
    job = await _job(runtime, job_id)
    assert (job.status, job.attempts, job.locked_by) == (JobStatus.queued, 0, None)


async def test_expired_lease_is_reclaimed_and_the_old_owner_is_fenced(runtime: Runtime) -> None:
    job_id = await _enqueue(runtime, "test.record", {"n": 7})
    async with runtime.sessions() as session:
        [claimed] = await queue.claim(session, "other-host:1:gone", limit=1, lease_seconds=0.05)
    await asyncio.sleep(0.1)
    await Worker(runtime.sessions, FAST, worker_id="new-owner").run_until_idle()
    job = await _job(runtime, job_id)
    assert (job.status, job.attempts, job.result) == (JobStatus.succeeded, 2, {"seen": 7})
    # The worker that lost its lease cannot overwrite the outcome.
    async with runtime.sessions() as session:
        assert await queue.complete(session, job_id, "other-host:1:gone", {"stale": True}) is False
        assert (
            await queue.fail(
                session,
                claimed,
                "other-host:1:gone",
                "late",
                permanent=True,
                backoff_base=1,
                backoff_cap=1,
            )
            == JobStatus.failed
        )  # reported, but fenced: the row is untouched
    job = await _job(runtime, job_id)
    assert (job.status, job.result, job.last_error) == (JobStatus.succeeded, {"seen": 7}, None)


async def test_lease_expiring_on_the_last_attempt_fails_the_job(runtime: Runtime) -> None:
    job_id = await _enqueue(runtime, "test.record", {"n": 1}, max_attempts=1)
    async with runtime.sessions() as session:
        await queue.claim(session, "other-host:1:gone", limit=1, lease_seconds=0.05)
    await asyncio.sleep(0.1)
    await Worker(runtime.sessions, FAST).run_until_idle()
    job = await _job(runtime, job_id)
    assert job.status == JobStatus.failed
    assert job.last_error is not None
    assert "lease expired" in job.last_error
    assert calls[job_id] == 0


async def test_a_job_running_when_its_process_died_resumes_after_restart(
    runtime: Runtime, db_url: str
) -> None:
    job_id = await _enqueue(runtime, "test.crashable")
    proc = subprocess.Popen(  # noqa: ASYNC220 - starting it does not block
        [sys.executable, "-m", "tests.support.job_worker_proc", db_url],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        deadline = time.monotonic() + 30
        while (job := await _job(runtime, job_id)).phase != "working":
            assert proc.poll() is None, "the worker process exited early"
            assert time.monotonic() < deadline, "the worker never started the job"
            await asyncio.sleep(0.05)
        assert job.status == JobStatus.running
        assert job.locked_by is not None
        assert job.locked_by.split(":")[1] == str(proc.pid)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    # The process is gone, its lease has an hour left: the restarted worker sees the dead
    # pid on this host and takes the job back at once.
    assert dead_local_workers([job.locked_by]) == [job.locked_by]
    await Worker(runtime.sessions, FAST).run_until_idle(within=20)
    job = await _job(runtime, job_id)
    assert job.status == JobStatus.succeeded
    assert job.attempts == 2
    assert job.result == {"resumed_on_attempt": 2}


async def test_claim_uses_skip_locked_on_postgres(runtime: Runtime) -> None:
    async with runtime.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(Job))
    assert count == 0
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises writers")
    # While one transaction holds a job row locked, a claim skips it instead of waiting.
    first = await _enqueue(runtime, "test.record", {"n": 1})
    second = await _enqueue(runtime, "test.record", {"n": 2})
    async with runtime.engine.connect() as holder:
        await holder.exec_driver_sql(f"SELECT id FROM jobs WHERE id = {first} FOR UPDATE")
        async with runtime.sessions() as session:
            claimed = await asyncio.wait_for(
                queue.claim(session, "w", limit=2, lease_seconds=30), timeout=5
            )
        await holder.rollback()
    assert [job.id for job in claimed] == [second]
