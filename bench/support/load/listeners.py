"""Listeners: each plays tracks by reading their audio in Range requests at playback rate
(a 64 KB chunk every 4 s is 128 kbit/s), as a player fills its buffer; a track is played
for a while or to its end, then another is picked (by popularity). A chunk that arrives
after the next one was due is late: a listener with no buffer would have heard a gap."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

import httpx

from support.load.stats import Recorder

CHUNK_BYTES = 64 * 1024
CHUNK_SECONDS = 4.0
ROUTE = "GET /audio/{id} (range)"


@dataclass
class Listening:
    bytes_read: int = 0
    chunks: int = 0
    late_chunks: int = 0
    tracks_started: int = 0


def _total_size(response: httpx.Response) -> int | None:
    """The object's size from `Content-Range: bytes a-b/size` (or a whole 200 answer)."""
    content_range = response.headers.get("content-range", "")
    if "/" in content_range:
        size = content_range.rsplit("/", 1)[1]
        return int(size) if size.isdigit() else None
    return len(response.content) if response.status_code == 200 else None


async def listener(
    http: httpx.AsyncClient,
    recorder: Recorder,
    tracks: list[int],
    weights: list[int],
    until: float,
    rng: random.Random,
    totals: Listening,
) -> None:
    # Spread over one chunk period, so 500 listeners do not ask in lockstep.
    await asyncio.sleep(rng.uniform(0, CHUNK_SECONDS))
    tick = time.monotonic()
    while tick < until:
        track = rng.choices(tracks, weights)[0]
        totals.tracks_started += 1
        # Most plays stop before the end (a skip, the next track queued by hand).
        chunks_wanted = rng.randint(8, 80)
        offset = 0
        for _ in range(chunks_wanted):
            if tick >= until:
                return
            wanted = f"bytes={offset}-{offset + CHUNK_BYTES - 1}"
            response = await recorder.get(ROUTE, http, f"/audio/{track}", {"Range": wanted})
            tick += CHUNK_SECONDS
            if time.monotonic() > tick:
                totals.late_chunks += 1
            await asyncio.sleep(max(0.0, tick - time.monotonic()))
            if response is None or response.status_code not in (200, 206):
                break  # recorded as an error; pick another track
            totals.chunks += 1
            totals.bytes_read += len(response.content)
            size = _total_size(response)
            offset += len(response.content)
            if size is None or offset >= size:
                break
