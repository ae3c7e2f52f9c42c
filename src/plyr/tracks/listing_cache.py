"""Whole-library orderings kept a few seconds per process: the album lists and the song
sync players page through (`library_lists`) read one sorted array instead of sorting
the library again for every page.

An entry lives `CACHE_SECONDS` per database engine; concurrent callers share one build
(`cache.single_flight`), and a takedown or a hidden account clears it in this process at
once (`cache.on_catalogue_change`; other processes within seconds). Staleness never shows
what listeners may not meet: the pages are loaded through `plyr.tracks.library`, which
leaves out whatever is no longer a song or an album; at worst a page is a little short, or
a new upload shows a few seconds late. The arrays hold integers only (8 bytes an album or
a song: 800 kB for 100 000), so memory stays small whatever the library's size.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncEngine

from plyr.cache import on_catalogue_change, single_flight
from plyr.runtime import Runtime

CACHE_SECONDS = 10.0
T = TypeVar("T")

_cache: weakref.WeakKeyDictionary[AsyncEngine, dict[Hashable, tuple[float, Any]]] = (
    weakref.WeakKeyDictionary()
)


async def cached(runtime: Runtime, key: Hashable, build: Callable[[], Awaitable[T]]) -> T:
    """`build()`'s value for `key`, at most CACHE_SECONDS old."""
    entries = _cache.setdefault(runtime.engine, {})
    now = time.monotonic()
    hit = entries.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return cast(T, hit[1])
    value = await single_flight(("listing", id(runtime.engine), key), build)
    entries[key] = (now, value)
    return value


def clear_cache() -> None:
    """Forget every ordering (tests; a takedown or a hidden account)."""
    _cache.clear()


on_catalogue_change(clear_cache)
