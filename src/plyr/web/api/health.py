"""`/health`: is this process able to serve? Checks the database and storage."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from plyr import __version__
from plyr.web.shared.deps import RuntimeDep

router = APIRouter(tags=["health"])
CHECK_TIMEOUT_SECONDS = 5


@router.get(
    "/health",
    summary="liveness and readiness: database and storage reachable",
    responses={503: {"description": "the database or storage did not answer (same body)"}},
)
async def health(runtime: RuntimeDep) -> JSONResponse:
    checks: dict[str, Any] = {}

    async def database() -> None:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def storage() -> None:
        await runtime.storage.check()

    for name, probe in (("database", database), ("storage", storage)):
        started = time.perf_counter()
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                await probe()
        except Exception as exc:
            checks[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        else:
            checks[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
    ok = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if ok else "unavailable", "version": __version__, "checks": checks}
    return JSONResponse(body, status_code=200 if ok else 503)
