"""Fixed-window rate limits kept in the database, so every web process counts together.

A bucket is a string such as `sign-in:ip:203.0.113.7` or `write:did:did:plc:…`; a window
is `window_seconds` long. Old windows are swept now and then.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from plyr.db.models import RateLimitHit
from plyr.runtime import Runtime

SWEEP_CHANCE = 0.01


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    count: int
    limit: int
    retry_after: int


async def hit(
    runtime: Runtime, bucket: str, *, limit: int, window_seconds: int, cost: int = 1
) -> Verdict:
    """Count `cost` actions (one request by default) in `bucket`; allowed while the window
    holds at most `limit`."""
    now = int(time.time())
    window = now - now % window_seconds
    values = {"bucket": bucket[:300], "window_start": window, "count": cost}
    async with runtime.sessions() as db:
        dialect = db.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        upsert = (
            insert(RateLimitHit)
            .values(**values)
            .on_conflict_do_update(
                index_elements=["bucket", "window_start"],
                set_={"count": RateLimitHit.count + cost},
            )
            .returning(RateLimitHit.count)
        )
        count = int((await db.execute(upsert)).scalar_one())
        if random.random() < SWEEP_CHANCE:  # noqa: S311 - housekeeping, not security
            await db.execute(
                delete(RateLimitHit).where(RateLimitHit.window_start < window - window_seconds)
            )
        await db.commit()
    return Verdict(count <= limit, count, limit, window + window_seconds - now)
