"""Following the reference PDS's firehose: records written by another client arrive, and a
restart resumes from the stored cursor."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from plyr.atproto.devnet import Network
from plyr.atproto.firehose import (
    FirehoseFollower,
    FrameError,
    RecordEvent,
    decode_frame,
    stored_cursor,
    subscribe_url,
)
from plyr.atproto.repo import RepoClient
from plyr.atproto.tid import next_tid
from plyr.atproto.xrpc import PasswordSession, XrpcClient
from plyr.runtime import Runtime


@pytest.fixture
async def alice(atproto_net: Network) -> AsyncIterator[RepoClient]:
    async with httpx.AsyncClient(timeout=10) as http:
        account = atproto_net.account("alice.test")
        session = await PasswordSession.create(
            http, atproto_net.pds_url, account.handle, account.password
        )
        yield RepoClient(XrpcClient(http, atproto_net.pds_url, session), session.did)


class Collector:
    def __init__(self) -> None:
        self.events: list[RecordEvent] = []
        self.arrived = asyncio.Condition()

    async def __call__(self, event: RecordEvent) -> None:
        async with self.arrived:
            self.events.append(event)
            self.arrived.notify_all()

    async def wait_for(self, count: int, within: float = 15) -> list[RecordEvent]:
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: len(self.events) >= count), within)
        return list(self.events)


async def start(follower: FirehoseFollower) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(follower.run(stop))
    assert follower.connected is not None
    await asyncio.wait_for(follower.connected.wait(), 15)
    return stop, task


def note(text: str) -> dict[str, Any]:
    return {"text": text, "createdAt": "2026-11-25T10:00:00.000Z"}


async def test_records_from_another_client_arrive_and_restart_resumes(
    atproto_net: Network, alice: RepoClient, runtime: Runtime
) -> None:
    # A namespace of our own, so records other tests write do not arrive here.
    namespace = f"fm.plyrtest{secrets.token_hex(4)}"
    collection = f"{namespace}.note"
    collector = Collector()
    follower = FirehoseFollower(atproto_net.pds_url, namespace, collector, runtime.sessions)
    stop, task = await start(follower)

    first, second = next_tid(), next_tid()
    created = await alice.put_record(collection, first, note("hello"))
    await alice.put_record(collection, second, note("second"))
    updated = await alice.put_record(collection, first, note("hello, edited"))
    await alice.delete_record(collection, second)
    await alice.put_record("fm.someoneelse.note", next_tid(), note("not ours"))

    events = await collector.wait_for(4)
    assert [(e.action, e.rkey) for e in events] == [
        ("create", first),
        ("create", second),
        ("update", first),
        ("delete", second),
    ]
    assert events[0].did == alice.did
    assert events[0].collection == collection
    assert events[0].cid == created.cid
    assert events[0].record == {
        "$type": collection,
        **note("hello"),
    }
    assert events[2].cid == updated.cid
    assert events[2].record is not None
    assert events[2].record["text"] == "hello, edited"
    assert events[3].record is None
    assert all(e.collection.startswith(namespace + ".") for e in events)

    stop.set()
    await asyncio.wait_for(task, 10)
    saved = await stored_cursor(runtime.sessions, follower.source)
    assert saved is not None
    assert saved >= events[-1].seq

    # Written while plyr was not listening: a new follower picks them up, and only them.
    third = next_tid()
    await alice.put_record(collection, third, note("while away"))
    later = Collector()
    follower2 = FirehoseFollower(atproto_net.pds_url, namespace, later, runtime.sessions)
    stop2, task2 = await start(follower2)
    try:
        resumed = await later.wait_for(1)
        await asyncio.sleep(0.5)  # anything replayed from before the cursor would show now
        assert [(e.action, e.rkey) for e in later.events] == [("create", third)]
        assert resumed[0].seq > events[-1].seq
    finally:
        stop2.set()
        await asyncio.wait_for(task2, 10)


async def test_reconnects_after_the_service_was_unreachable(runtime: Runtime) -> None:
    follower = FirehoseFollower("http://127.0.0.1:9", "fm.plyr", Collector(), runtime.sessions)
    stop = asyncio.Event()
    task = asyncio.create_task(follower.run(stop))
    await asyncio.sleep(0.3)
    assert not task.done()  # it keeps trying instead of dying
    stop.set()
    await asyncio.wait_for(task, 5)


def test_subscribe_url_and_bad_frames() -> None:
    assert (
        subscribe_url("http://localhost:2583", 42)
        == "ws://localhost:2583/xrpc/com.atproto.sync.subscribeRepos?cursor=42"
    )
    assert subscribe_url("https://bsky.network", None).startswith("wss://bsky.network/xrpc/")
    with pytest.raises(ValueError, match="not an http"):
        subscribe_url("ftp://example.com", None)
    with pytest.raises(FrameError):
        decode_frame(b"\xff\x00garbage")
