"""Telling a process's open jam streams that their jam changed.

A change made in this process wakes its watchers at once (`changed`). A change made by
another web process (PostgreSQL) is noticed by one poll per process: while anyone here
watches a jam, one query every `POLL_SECONDS` reads the watched jams' `version`s and wakes
the watchers of those that moved. One indexed read for all of a process's streams, not
one per stream; on SQLite (one process) the poll is only a slow safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncGenerator, AsyncIterator

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from plyr.db.models import Jam
from plyr.listening.jams.state import END_GRACE_MS, JamView, duration_ms, now_ms, read_jam
from plyr.runtime import Runtime

POLL_SECONDS = 0.2  # PostgreSQL: a seek reaches the other processes' members this late
SQLITE_POLL_SECONDS = 2.0

log = logging.getLogger(__name__)


class Hub:
    """The watchers of one engine's jams in this process (one per engine: `hub_for`)."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._versions: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._interval = SQLITE_POLL_SECONDS if runtime.settings.is_sqlite else POLL_SECONDS

    def changed(self, code: str) -> None:
        for event in self._waiters.get(code, ()):
            event.set()

    @contextlib.asynccontextmanager
    async def watching(self, code: str) -> AsyncIterator[asyncio.Event]:
        """An event set whenever the jam `code` may have changed; clear it before reading."""
        event = asyncio.Event()
        self._waiters.setdefault(code, set()).add(event)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._poll())
        try:
            yield event
        finally:
            watchers = self._waiters.get(code)
            if watchers is not None:
                watchers.discard(event)
                if not watchers:
                    del self._waiters[code]
                    self._versions.pop(code, None)

    async def _poll(self) -> None:
        while self._waiters:
            await asyncio.sleep(self._interval)
            codes = list(self._waiters)
            if not codes:
                break
            try:
                async with self._runtime.sessions() as db:
                    rows = (
                        await db.execute(select(Jam.code, Jam.version).where(Jam.code.in_(codes)))
                    ).all()
            except Exception:  # a database hiccup: the streams keep their last state
                log.warning("reading the jams' versions failed", exc_info=True)
                continue
            for code, version in rows:
                if self._versions.get(code) != version:
                    self._versions[code] = version
                    self.changed(code)


_hubs: weakref.WeakKeyDictionary[AsyncEngine, Hub] = weakref.WeakKeyDictionary()


def hub_for(runtime: Runtime) -> Hub:
    hub = _hubs.get(runtime.engine)
    if hub is None:
        hub = _hubs[runtime.engine] = Hub(runtime)
    return hub


def changed(runtime: Runtime, code: str) -> None:
    """This process changed the jam `code`: wake its watchers here."""
    hub = _hubs.get(runtime.engine)
    if hub is not None:
        hub.changed(code)


async def views(
    runtime: Runtime, code: str, keep_alive: float = 15.0
) -> AsyncGenerator[JamView | None, None]:
    """The jam now, then again whenever it changes (or its track ends and the next one
    starts); None every `keep_alive` seconds without one. Ends after the jam ended."""
    hub = hub_for(runtime)
    async with hub.watching(code) as event:
        shown: tuple[object, ...] | None = None
        while True:
            event.clear()
            view = await read_jam(runtime, code)
            seen = (
                view.version,
                view.track.id if view.track else None,
                view.anchor_ms,
                view.playing,
            )
            if seen != shown:
                shown = seen
                yield view
            if view.ended:
                return
            wait = keep_alive
            length = duration_ms(view.track)
            if view.playing and length is not None:
                ends_in = view.anchor_ms - view.position_ms + length + END_GRACE_MS - now_ms()
                wait = min(wait, max(0.05, ends_in / 1000 + 0.05))
            try:
                await asyncio.wait_for(event.wait(), wait)
            except TimeoutError:
                if wait == keep_alive:
                    yield None
