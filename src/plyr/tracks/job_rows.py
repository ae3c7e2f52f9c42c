"""What the track jobs share: the job's runtime, and setting columns of an Upload or Track
row that may have been deleted meanwhile."""

from __future__ import annotations

from typing import Any

from plyr.db.models import Track, Upload
from plyr.jobs.registry import JobContext
from plyr.runtime import Runtime


def job_runtime(ctx: JobContext) -> Runtime:
    runtime: Runtime = ctx.services["runtime"]
    return runtime


async def update_row(
    runtime: Runtime, model: type[Upload | Track], key: object, **values: Any
) -> None:
    """Set columns of one Upload or Track row, if it still exists."""
    async with runtime.sessions() as db:
        row = await db.get(model, key)
        if row is not None:
            for name, value in values.items():
                setattr(row, name, value)
            await db.commit()
