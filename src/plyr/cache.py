"""Sharing one running computation between concurrent callers (per process), and telling
the short caches of listings that the catalogue changed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar, cast

T = TypeVar("T")

_in_flight: dict[Hashable, asyncio.Future[Any]] = {}


async def single_flight(key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
    """Concurrent callers with the same key share one running `compute()`.

    Short caches of expensive aggregates (home page numbers, top tracks) expire under load
    for every request in flight at once; without this each would run the same query (a
    thundering herd: with 50 clients, 50 scans of the plays every few seconds).
    """
    running = _in_flight.get(key)
    if running is None:
        running = asyncio.ensure_future(compute())
        _in_flight[key] = running
        running.add_done_callback(lambda _: _in_flight.pop(key, None))
    # shield: a caller that goes away does not cancel the others' computation.
    return cast(T, await asyncio.shield(running))


# --- invalidation ------------------------------------------------------------------------

_on_change: list[Callable[[], None]] = []


def on_catalogue_change(clear: Callable[[], None]) -> None:
    """Register a cache's `clear`: called when what listeners may see changes at once (a
    track taken down or restored, an account hidden), so this process shows it now. Other
    processes' caches expire on their own within seconds."""
    if clear not in _on_change:
        _on_change.append(clear)


def catalogue_changed() -> None:
    for clear in _on_change:
        clear()
