"""Drive one scenario: `clients` tasks, each on its own kept-alive connection, sending one
request after another for `seconds` (after a short warm-up); every answer but 2xx counts
as an error. Latencies are from sending to the whole body read."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

import httpx

from support.load.stats import client_limits, percentile
from support.subsonic_load.scenarios import Scenario
from support.subsonic_load.server import server_cpu

WARM_UP_SECONDS = 2.0


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    server_cpu: float  # cores the server used on average

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


async def _loop(
    http: httpx.AsyncClient,
    scenario: Scenario,
    rng: random.Random,
    until: float,
    latencies: list[float] | None,
    errors: list[str],
) -> None:
    while time.perf_counter() < until:
        request = scenario.make(rng)
        started = time.perf_counter()
        try:
            response = await http.get(request.path, headers=request.headers)
            head = response.content[:200]  # a Subsonic error is HTTP 200 with status failed
            failed = not 200 <= response.status_code < 300 or b'"failed"' in head
        except httpx.HTTPError as exc:
            errors.append(type(exc).__name__)
            continue
        if latencies is not None:
            latencies.append((time.perf_counter() - started) * 1000)
        if failed:
            errors.append(str(response.status_code))


async def drive(
    base: str, scenario: Scenario, clients: int, seconds: float, seed: int, pid: int
) -> Result:
    limits = client_limits(clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        warm_errors: list[str] = []
        until = time.perf_counter() + WARM_UP_SECONDS
        await asyncio.gather(
            *(
                _loop(http, scenario, random.Random(seed + i), until, None, warm_errors)
                for i in range(clients)
            )
        )
        latencies: list[float] = []
        errors: list[str] = []
        cpu_before = server_cpu(pid)
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(
            *(
                _loop(http, scenario, random.Random(seed * 1000 + i), until, latencies, errors)
                for i in range(clients)
            )
        )
        elapsed = time.perf_counter() - started
        cpu = (server_cpu(pid) - cpu_before) / elapsed
    return Result(
        scenario.name,
        len(latencies),
        len(errors) + len(warm_errors),
        elapsed,
        percentile(latencies, 0.50),
        percentile(latencies, 0.95),
        cpu,
    )
