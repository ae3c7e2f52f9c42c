"""When and how long to wait before trying a request again (pure functions).

429 and 503 are retried for every method: the server did nothing with the request. A
connection that never opened is retried for every method too (nothing was sent); a
connection that broke or timed out after sending only for idempotent methods, since the
server may have acted on a POST."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({429, 503})
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_AFTER_MAX = 60.0
_RANDOM = random.Random()  # noqa: S311 - jitter, not secrets


@dataclass(frozen=True)
class RetryPolicy:
    """`max_retries` tries after the first; waits grow from `backoff` seconds, doubling up
    to `backoff_max`, with jitter so many clients do not come back in step."""

    max_retries: int = 3
    backoff: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = RETRY_AFTER_MAX

    def backoff_delay(self, retry: int, rng: random.Random | None = None) -> float:
        """The wait before retry number `retry` (0-based): half fixed, half random."""
        ceiling = min(self.backoff_max, self.backoff * (2.0**retry))
        jitter = (rng or _RANDOM).uniform(0, ceiling / 2)
        return ceiling / 2 + jitter

    def delay(
        self, retry: int, retry_after: float | None, rng: random.Random | None = None
    ) -> float:
        """The server's Retry-After when it gave one (capped), else the backoff."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_max)
        return self.backoff_delay(retry, rng)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After in seconds: delta-seconds ("3") or an HTTP date; None when absent or
    unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def retry_status(status: int) -> bool:
    return status in RETRY_STATUSES


def retry_failure(method: str, *, before_sending: bool) -> bool:
    """May a request that got no answer be sent again?"""
    return before_sending or method.upper() in IDEMPOTENT
