"""The worker: claims due jobs, runs their handlers, keeps leases alive, records outcomes."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from plyr.config import Settings
from plyr.db.models import JobStatus
from plyr.jobs import queue
from plyr.jobs.registry import JobContext, PermanentJobError, get_handler

log = logging.getLogger(__name__)

PROGRESS_MIN_INTERVAL = 0.5


def new_worker_id() -> str:
    """`host:pid:random`; the host and pid let a restarted process reclaim its dead self's jobs."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def pid_alive(pid: int) -> bool:
    """Whether a process of this host with that pid runs (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dead_local_workers(worker_ids: list[str], *, hostname: str | None = None) -> list[str]:
    """Workers on this host whose process no longer exists."""
    host = hostname or socket.gethostname()
    dead = []
    for worker in worker_ids:
        parts = worker.split(":")
        if len(parts) == 3 and parts[0] == host and parts[1].isdigit():
            pid = int(parts[1])
            if pid != os.getpid() and not pid_alive(pid):
                dead.append(worker)
    return dead


@dataclass
class WorkerOptions:
    concurrency: int = 2
    poll_seconds: float = 1.0
    lease_seconds: float = 60.0
    backoff_base: float = 2.0
    backoff_cap: float = 600.0
    shutdown_grace_seconds: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerOptions:
        return cls(
            concurrency=settings.job_concurrency,
            poll_seconds=settings.job_poll_seconds,
            lease_seconds=settings.job_lease_seconds,
            backoff_base=settings.job_backoff_base_seconds,
            backoff_cap=settings.job_backoff_cap_seconds,
        )


@dataclass
class Worker:
    sessions: async_sessionmaker[AsyncSession]
    options: WorkerOptions = field(default_factory=WorkerOptions)
    services: dict[str, Any] = field(default_factory=dict)
    worker_id: str = field(default_factory=new_worker_id)

    def __post_init__(self) -> None:
        self._wakeup = asyncio.Event()
        self._running: dict[int, asyncio.Task[None]] = {}

    async def recover_orphans(self) -> int:
        """Jobs left `running` by a dead process on this host become claimable at once."""
        async with self.sessions() as session:
            dead = dead_local_workers(await queue.running_worker_ids(session))
            count = await queue.expire_leases_of(session, dead)
        if count:
            log.info("recovered %d job(s) from stopped workers", count, extra={"workers": dead})
        return count

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and run jobs until `stop` is set, then finish or hand back what runs."""
        queue.register_wakeup(self._wakeup)
        log.info("job worker started", extra={"worker_id": self.worker_id})
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await self.recover_orphans()
            while not stop.is_set():
                free = self.options.concurrency - len(self._running)
                if free > 0 and await self._claim(free):
                    continue
                # Sleep until told to stop, a job is enqueued here, a slot frees up, or the
                # poll interval passes (jobs enqueued by other processes, backoffs ending).
                self._wakeup.clear()
                woken = asyncio.ensure_future(self._wakeup.wait())
                await asyncio.wait(
                    {stopped, woken, *self._running.values()},
                    timeout=self.options.poll_seconds,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                woken.cancel()
        finally:
            stopped.cancel()
            queue.unregister_wakeup(self._wakeup)
            await self._shutdown()
            log.info("job worker stopped", extra={"worker_id": self.worker_id})

    async def run_until_idle(self, within: float = 30.0) -> None:
        """Run until no job is due or running (tests, benchmarks, one-off commands)."""
        deadline = time.monotonic() + within
        await self.recover_orphans()
        while time.monotonic() < deadline:
            free = self.options.concurrency - len(self._running)
            claimed = await self._claim(free) if free > 0 else 0
            if not claimed and not self._running:
                return
            if self._running and (free <= 0 or not claimed):
                await asyncio.wait(
                    list(self._running.values()),
                    timeout=max(0.0, deadline - time.monotonic()),
                    return_when=asyncio.FIRST_COMPLETED,
                )
        raise TimeoutError("jobs still due or running after the timeout")

    def _forget(self, job_id: int, _task: asyncio.Task[None]) -> None:
        self._running.pop(job_id, None)

    async def _claim(self, limit: int) -> int:
        """Claim up to `limit` due jobs and start them; the number started."""
        try:
            async with self.sessions() as session:
                jobs = await queue.claim(
                    session, self.worker_id, limit=limit, lease_seconds=self.options.lease_seconds
                )
        except Exception:
            # A database hiccup must not kill the worker; the next poll tries again.
            log.exception("claiming jobs failed")
            return 0
        for job in jobs:
            task = asyncio.create_task(self._execute(job), name=f"job-{job.id}")
            self._running[job.id] = task
            task.add_done_callback(functools.partial(self._forget, job.id))
        return len(jobs)

    async def _execute(self, job: queue.ClaimedJob) -> None:
        started = time.monotonic()
        handler = get_handler(job.kind)
        reporter = _Reporter(self, job.id)
        heartbeat = asyncio.create_task(self._heartbeat(job.id))
        try:
            if handler is None:
                raise PermanentJobError(f"no handler for job kind {job.kind!r}")
            ctx = JobContext(
                job_id=job.id,
                kind=job.kind,
                attempt=job.attempts,
                max_attempts=job.max_attempts,
                payload=job.payload,
                sessions=self.sessions,
                report=reporter,
                services=self.services,
            )
            result = await handler(ctx)
        except asyncio.CancelledError:
            heartbeat.cancel()
            with contextlib.suppress(Exception):
                async with self.sessions() as session:
                    await queue.release(session, job.id, self.worker_id)
            raise
        except queue.LeaseLost:
            log.warning("job %d lost its lease; its new owner carries on", job.id)
            return
        except Exception as exc:
            permanent = isinstance(exc, PermanentJobError)
            error = f"{type(exc).__name__}: {exc}" if not permanent else str(exc)
            async with self.sessions() as session:
                status = await queue.fail(
                    session,
                    job,
                    self.worker_id,
                    error,
                    permanent=permanent,
                    backoff_base=self.options.backoff_base,
                    backoff_cap=self.options.backoff_cap,
                )
            level = logging.ERROR if status == JobStatus.failed else logging.WARNING
            log.log(
                level,
                "job %d (%s) attempt %d/%d failed: %s",
                job.id,
                job.kind,
                job.attempts,
                job.max_attempts,
                error,
                extra={"traceback": traceback.format_exc(limit=8)} if not permanent else None,
            )
            return
        finally:
            heartbeat.cancel()
        async with self.sessions() as session:
            done = await queue.complete(session, job.id, self.worker_id, result)
        if done:
            log.info("job %d (%s) done in %.2fs", job.id, job.kind, time.monotonic() - started)

    async def _heartbeat(self, job_id: int) -> None:
        interval = self.options.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            try:
                async with self.sessions() as session:
                    await queue.renew_lease(
                        session, job_id, self.worker_id, self.options.lease_seconds
                    )
            except queue.LeaseLost:
                task = self._running.get(job_id)
                if task is not None:
                    task.cancel()
                return
            except Exception:
                log.exception("renewing the lease of job %d failed", job_id)

    async def _shutdown(self) -> None:
        if not self._running:
            return
        tasks = list(self._running.values())
        _done, pending = await asyncio.wait(tasks, timeout=self.options.shutdown_grace_seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


class _Reporter:
    """Progress for one job: throttled writes that also renew the lease."""

    def __init__(self, worker: Worker, job_id: int) -> None:
        self._worker = worker
        self._job_id = job_id
        self._last_write = 0.0
        self._last_phase: str | None = None

    async def __call__(
        self, phase: str | None, progress: float | None = None, message: str | None = None
    ) -> None:
        now = time.monotonic()
        if phase == self._last_phase and now - self._last_write < PROGRESS_MIN_INTERVAL:
            return
        self._last_write, self._last_phase = now, phase
        values: dict[str, Any] = {"phase": phase, "message": message}
        if progress is not None:
            values["progress"] = min(1.0, max(0.0, progress))
        async with self._worker.sessions() as session:
            await queue.renew_lease(
                session,
                self._job_id,
                self._worker.worker_id,
                self._worker.options.lease_seconds,
                **values,
            )
