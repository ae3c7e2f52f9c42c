"""Browsing clients: pages and the JSON a visitor's clicks fetch (home, a track, an artist,
search as they type, the featured-artist typeahead), with a few seconds of think time
between clicks. Inputs come from the catalogue (`support.read_paths.inputs`)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

import httpx

from support.load.stats import Recorder
from support.read_paths.inputs import Inputs

THINK_SECONDS = (1.0, 5.0)


def _clicks(inputs: Inputs, rng: random.Random) -> list[tuple[int, str, Callable[[], str]]]:
    """(weight, route template, a URL for it) of what a visitor does next."""

    def prefix() -> str:
        handle = rng.choice(inputs.handles)
        return handle.split(".")[0][: rng.randint(2, 6)]  # typed so far: no dot, no lookup

    return [
        (20, "GET /", lambda: "/"),
        (30, "GET /tracks/{id}", lambda: f"/tracks/{rng.choice(inputs.track_ids)}"),
        (20, "GET /artists/{handle}", lambda: f"/artists/{rng.choice(inputs.handles)}"),
        (15, "GET /api/search", lambda: f"/api/search?q={rng.choice(inputs.queries)}"),
        (10, "GET /api/handles/typeahead", lambda: f"/api/handles/typeahead?q={prefix()}"),
        (5, "GET /search", lambda: f"/search?q={rng.choice(inputs.queries)}"),
    ]


async def browser(
    http: httpx.AsyncClient, recorder: Recorder, inputs: Inputs, until: float, rng: random.Random
) -> None:
    clicks = _clicks(inputs, rng)
    weights = [weight for weight, _, _ in clicks]
    await asyncio.sleep(rng.uniform(*THINK_SECONDS))
    while time.monotonic() < until:
        _, route, url = rng.choices(clicks, weights)[0]
        await recorder.get(route, http, url())
        await asyncio.sleep(rng.uniform(*THINK_SECONDS))
