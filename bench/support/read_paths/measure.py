"""Timing one read path: its requests one at a time after a warm-up, then its bare query
as many times; SQL statements per request counted on the app's engine."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass
class PathResult:
    name: str
    app_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)
    statements: float = 0.0
    errors: int = 0
    skipped: str | None = None
    cache_hits: int = 0  # measured requests the page cache answered (pages.served)
    rps: tuple[float, str] | None = None  # the pages' own: home without the cache


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class StatementCounter:
    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        self.count += 1


async def measure_path(
    client: httpx.AsyncClient,
    counter: StatementCounter,
    name: str,
    url_for: Callable[[int], str],
    bare: Callable[[int], Awaitable[Any]],
    requests: int,
) -> PathResult:
    result = PathResult(name)
    probe = await client.get(url_for(0))
    if probe.status_code == 404 and "/api/" in url_for(0):
        result.skipped = f"{url_for(0).split('?')[0]} does not exist yet"
        return result
    warm = min(20, requests)
    for i in range(warm):
        await client.get(url_for(i))
        await bare(i)
    before = counter.count
    for i in range(requests):
        started = time.perf_counter()
        response = await client.get(url_for(i))
        result.app_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            result.errors += 1
    result.statements = (counter.count - before) / requests
    for i in range(requests):
        started = time.perf_counter()
        await bare(i)
        result.bare_ms.append((time.perf_counter() - started) * 1000)
    return result
