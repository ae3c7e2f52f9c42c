"""`/health`: is this process able to serve? Checks the database and storage."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from sqlalchemy import text

from plyr import __version__
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.examples import with_examples

router = APIRouter(tags=["health"])
CHECK_TIMEOUT_SECONDS = 5


class HealthCheck(BaseModel):
    """One dependency: `ms` when it answered, `error` when it did not (the other is left
    out of the JSON)."""

    model_config = with_examples(
        {"ok": True, "ms": 1.4},
        {"ok": False, "error": "TimeoutError: the database did not answer in 5 s"},
    )

    ok: bool
    ms: float | None = Field(default=None, description="how long it took to answer")
    error: str | None = Field(default=None, description="why it failed")


class HealthOut(BaseModel):
    model_config = with_examples(
        {
            "status": "ok",
            "version": "0.1.0",
            "checks": {"database": {"ok": True, "ms": 1.4}, "storage": {"ok": True, "ms": 0.3}},
        }
    )

    status: Literal["ok", "unavailable"]
    version: str = Field(description="plyr's version (not the API's: see the OpenAPI `info`)")
    checks: dict[str, HealthCheck] = Field(description="`database` and `storage`")


@router.get(
    "/health",
    summary="liveness and readiness: database and storage reachable",
    response_model_exclude_none=True,
    responses={503: {"model": HealthOut, "description": "the database or storage did not answer"}},
)
async def health(runtime: RuntimeDep, response: Response) -> HealthOut:
    """200 when the database and storage both answer within 5 s; 503 with the same report
    when one does not (`checks` says which, and why). For load balancers and monitoring."""
    checks: dict[str, HealthCheck] = {}

    async def database() -> None:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def storage() -> None:
        await runtime.storage.check()

    probes: tuple[tuple[str, Callable[[], Awaitable[None]]], ...] = (
        ("database", database),
        ("storage", storage),
    )
    for name, probe in probes:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                await probe()
        except Exception as exc:
            checks[name] = HealthCheck(ok=False, error=f"{type(exc).__name__}: {exc}"[:300])
        else:
            elapsed = round((time.perf_counter() - started) * 1000, 1)
            checks[name] = HealthCheck(ok=True, ms=elapsed)
    ok = all(check.ok for check in checks.values())
    response.status_code = 200 if ok else 503
    return HealthOut(status="ok" if ok else "unavailable", version=__version__, checks=checks)
