"""Per-user and per-address rate limits for the web layer (counters in plyr/ratelimit.py)."""

from __future__ import annotations

from fastapi import Request

from plyr import ratelimit
from plyr.runtime import Runtime
from plyr.web.shared.errors import ApiError


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class RateLimited(ApiError):
    """429 with `Retry-After`: the seconds until the limit lets the request through."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(429, "rate_limited", f"too many requests; try again in {retry_after} s")
        self.headers = {"Retry-After": str(retry_after)}


async def enforce(
    runtime: Runtime, request: Request, did: str, kind: str, limit: int, window: int
) -> None:
    """Count one `kind` action for the user and for their address; 429 past the limit."""
    for bucket in (f"{kind}:did:{did}", f"{kind}:ip:{client_address(request)}"):
        verdict = await ratelimit.hit(runtime, bucket, limit=limit, window_seconds=window)
        if not verdict.allowed:
            raise RateLimited(verdict.retry_after)


async def limit_writes(runtime: Runtime, request: Request, did: str) -> None:
    """The shared budget of ordinary writes (likes, comments, lists, edits) per minute."""
    await enforce(runtime, request, did, "write", runtime.settings.rate_limit_writes_per_minute, 60)
