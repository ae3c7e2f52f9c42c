"""One label poller per process (per database engine) for every subscribeLabels stream.

Each stream used to poll the database itself; now a single task (`Feed`) reads the labels
after the last one it saw, encodes each frame once and offers the same bytes to every
subscriber's queue. It runs only while someone subscribes, wakes at once for labels this
process commits and polls every `labels.POLL_SECONDS` for other processes' labels.

A subscriber's queue is bounded (`labeler_stream_backlog`): one that falls further behind is
marked `overflowed` (its stream ends with a `ConsumerTooSlow` error frame) instead of
buffering without limit. Connections are capped per client address and in total
(`labeler_streams_per_address`, `labeler_streams_max`).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import Counter, deque
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from plyr.atproto import dagcbor
from plyr.db.models import Label
from plyr.moderation import labels
from plyr.runtime import Runtime

log = logging.getLogger(__name__)

BATCH = 500


def frame(header: dict[str, Any], body: dict[str, Any]) -> bytes:
    return dagcbor.encode_ipld(header) + dagcbor.encode_ipld(body)


def label_frame(row: Label) -> bytes:
    return frame(
        {"op": 1, "t": "#labels"}, {"seq": row.seq, "labels": [labels.label_cbor_view(row)]}
    )


class Subscriber:
    """One stream's queue of (seq, frame); `wake` is set when there is something to do."""

    def __init__(self, feed: Feed, address: str, bound: int) -> None:
        self.feed = feed
        self.address = address
        self.bound = bound
        self.queue: deque[tuple[int, bytes]] = deque()
        self.wake = asyncio.Event()
        self.overflowed = False

    def offer(self, seq: int, data: bytes) -> None:
        if self.overflowed:
            return
        if len(self.queue) >= self.bound:
            self.overflowed = True
            self.queue.clear()
        else:
            self.queue.append((seq, data))
        self.wake.set()

    def leave(self) -> None:
        self.feed.leave(self)


class Full(Exception):
    """The process, or this client address, holds as many streams as allowed."""


class Feed:
    """The poller of one engine and its subscribers."""

    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()
        self.per_address: Counter[str] = Counter()
        self.task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()
        self.polls = 0  # reads of the database (the tests count them)

    def join(self, runtime: Runtime, address: str) -> Subscriber:
        """A new subscriber, and the poller started if it is not running. Raises Full."""
        settings = runtime.settings
        if len(self.subscribers) >= settings.labeler_streams_max:
            raise Full(f"this labeler serves {settings.labeler_streams_max} streams at most")
        if self.per_address[address] >= settings.labeler_streams_per_address:
            raise Full(f"at most {settings.labeler_streams_per_address} streams per address")
        subscriber = Subscriber(self, address, settings.labeler_stream_backlog)
        self.subscribers.add(subscriber)
        self.per_address[address] += 1
        if self.task is None or self.task.done():
            self.ready = asyncio.Event()
            self.task = asyncio.create_task(self._run(runtime), name="labels-feed")
        return subscriber

    def leave(self, subscriber: Subscriber) -> None:
        if subscriber in self.subscribers:
            self.subscribers.discard(subscriber)
            self.per_address[subscriber.address] -= 1
            if self.per_address[subscriber.address] <= 0:
                del self.per_address[subscriber.address]

    async def _run(self, runtime: Runtime) -> None:
        after = await self._latest(runtime)
        self.ready.set()  # subscribers replay from the database up to here themselves
        while self.subscribers:
            try:
                self.polls += 1
                rows = await labels.since(runtime, after, BATCH)
            except Exception:  # the database is away: keep the streams, try again
                log.exception("reading new labels failed")
                rows = []
            for row in rows:
                data = label_frame(row)
                for subscriber in self.subscribers:
                    subscriber.offer(row.seq, data)
                after = row.seq
            if len(rows) < BATCH and self.subscribers:
                await labels.wait_for_new(runtime)

    async def _latest(self, runtime: Runtime) -> int:
        while True:
            try:
                return await labels.latest_seq(runtime)
            except Exception:
                log.exception("reading the newest label failed")
                await asyncio.sleep(labels.POLL_SECONDS)


_feeds: weakref.WeakKeyDictionary[AsyncEngine, Feed] = weakref.WeakKeyDictionary()


def feed_for(runtime: Runtime) -> Feed:
    # The feed holds no runtime (it would keep the engine, its key, alive); its task does,
    # while it runs.
    feed = _feeds.get(runtime.engine)
    if feed is None:
        feed = _feeds[runtime.engine] = Feed()
    return feed
