"""The time to a request's first audio byte: from sending it to the first byte of the
body, on a kept-alive connection. The rest of the answer is not read: the connection is
closed there (a transcode then stops, as for a player skipping the track), so each sample
costs the server what a start of playback costs."""

from __future__ import annotations

import asyncio
import hashlib
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from support.load.stats import percentile
from support.subsonic_stream.setup import Listener


@dataclass(frozen=True)
class Kind:
    name: str
    path: Callable[[Listener, int], str]  # the URL path of one request for a track


def _signed(listener: Listener, extra: dict[str, str]) -> str:
    """Token auth, as players sign their stream URLs: md5(password + salt), a fresh salt."""
    salt = secrets.token_hex(6)
    token = hashlib.md5((listener.password + salt).encode()).hexdigest()  # noqa: S324 - the protocol's
    query = {"u": listener.username, "t": token, "s": salt, "v": "1.16.1", "c": "bench"}
    return "/rest/stream?" + urlencode({**query, **extra})


KINDS = (
    Kind("/audio/{id} (the web player)", lambda _listener, track: f"/audio/{track}"),
    Kind("stream", lambda listener, track: _signed(listener, {"id": f"tr-{track}"})),
    Kind(
        "stream maxBitRate=96 (mp3 96)",
        lambda listener, track: _signed(listener, {"id": f"tr-{track}", "maxBitRate": "96"}),
    ),
    Kind(
        "stream format=opus maxBitRate=96",
        lambda listener, track: _signed(
            listener, {"id": f"tr-{track}", "format": "opus", "maxBitRate": "96"}
        ),
    ),
    Kind(
        "stream timeOffset=60 (mp3 from 1:00)",
        lambda listener, track: _signed(listener, {"id": f"tr-{track}", "timeOffset": "60"}),
    ),
)


@dataclass(frozen=True)
class Figures:
    name: str
    concurrency: int
    p50_ms: float
    p95_ms: float
    errors: int


async def first_byte(http: httpx.AsyncClient, path: str) -> float | None:
    """Seconds to the first byte of the body; None for anything but a 200 or 206 of audio."""
    started = time.perf_counter()
    async with http.stream("GET", path) as response:
        if response.status_code not in (200, 206):
            return None
        if not response.headers.get("content-type", "").startswith("audio/"):
            return None  # an error envelope: not audio
        async for chunk in response.aiter_raw():
            if chunk:
                return time.perf_counter() - started
    return None


async def measure(
    base: str, kind: Kind, listener: Listener, requests: int, concurrency: int, seed: int
) -> Figures:
    """`requests` requests of one kind, `concurrency` at a time, over random tracks."""
    rng = random.Random(seed)
    tracks = [rng.choice(listener.track_ids) for _ in range(requests)]
    samples: list[float] = []
    errors = 0
    queue = list(reversed(tracks))

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while queue:
                track = queue.pop()
                try:
                    took = await first_byte(http, kind.path(listener, track))
                except httpx.HTTPError:
                    took = None
                if took is None:
                    errors += 1
                else:
                    samples.append(took)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return Figures(
        kind.name,
        concurrency,
        percentile(samples, 0.5) * 1000,
        percentile(samples, 0.95) * 1000,
        errors,
    )
