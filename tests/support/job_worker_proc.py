"""A worker in its own process, for the crash test: `python -m tests.support.job_worker_proc URL`.

Its handler reports a phase and then hangs, so the test can kill the process mid-job.
"""

from __future__ import annotations

import asyncio
import sys

from plyr.db.engine import create_engine, create_sessionmaker
from plyr.jobs import JobContext, job_handler
from plyr.jobs.worker import Worker, WorkerOptions


@job_handler("test.crashable")
async def hang(ctx: JobContext) -> None:
    await ctx.report("working", 0.25, "halfway there")
    await asyncio.sleep(3600)


async def main(url: str) -> None:
    engine = create_engine(url)
    # A long lease: recovery after the kill must not depend on the lease running out.
    worker = Worker(
        create_sessionmaker(engine),
        WorkerOptions(concurrency=1, poll_seconds=0.05, lease_seconds=3600),
    )
    await worker.run(asyncio.Event())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
