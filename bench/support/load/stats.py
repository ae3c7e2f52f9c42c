"""Per-route counts, errors and latencies of a load run. A request counts as an error when
it raises (timeouts, refused connections) or answers anything but 2xx/3xx."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

# A kept-alive connection the server closed just as the request went out: no answer at all.
# Browsers send such a GET again unseen; so does `Recorder.get`, counting it apart.
BROKEN_BEFORE_ANSWER = (httpx.RemoteProtocolError, httpx.ReadError)


@dataclass
class RouteStats:
    count: int = 0
    latencies_ms: list[float] = field(default_factory=list)  # of the requests answered
    errors: int = 0
    error_kinds: Counter[str] = field(default_factory=Counter)  # status code or exception
    retried: int = 0


def client_limits(connections: int, *, keep_alive: bool = True) -> httpx.Limits:
    """A bounded pool whose idle connections close well before the server's (uvicorn
    drops them after 5 s), so few requests go out on a connection being closed."""
    return httpx.Limits(
        max_connections=connections,
        max_keepalive_connections=connections if keep_alive else 0,
        keepalive_expiry=2.0,
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Recorder:
    """Times requests by route template ("GET /tracks/{id}"), not by URL."""

    def __init__(self) -> None:
        self.routes: dict[str, RouteStats] = {}

    def route(self, name: str) -> RouteStats:
        return self.routes.setdefault(name, RouteStats())

    def error(self, name: str, kind: str) -> None:
        stats = self.route(name)
        stats.count += 1
        stats.errors += 1
        stats.error_kinds[kind] += 1

    async def timed(
        self, name: str, send: Callable[[], Awaitable[httpx.Response]], *, retry: bool = False
    ) -> httpx.Response | None:
        """The response, or None when the request raised (recorded as an error). With
        `retry` (idempotent requests), a request that got no answer at all goes once more;
        its latency includes both tries."""
        started = time.perf_counter()
        try:
            try:
                response = await send()
            except BROKEN_BEFORE_ANSWER:
                if not retry:
                    raise
                self.route(name).retried += 1
                response = await send()
        except httpx.HTTPError as exc:
            self.error(name, type(exc).__name__)
            return None
        stats = self.route(name)
        stats.count += 1
        stats.latencies_ms.append((time.perf_counter() - started) * 1000)
        if not 200 <= response.status_code < 400:
            stats.errors += 1
            stats.error_kinds[str(response.status_code)] += 1
        return response

    async def get(
        self, name: str, http: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None
    ) -> httpx.Response | None:
        return await self.timed(name, lambda: http.get(url, headers=headers), retry=True)

    @property
    def total_errors(self) -> int:
        return sum(stats.errors for stats in self.routes.values())

    @property
    def total_retried(self) -> int:
        return sum(stats.retried for stats in self.routes.values())
