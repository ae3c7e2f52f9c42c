"""subscribeLabels under load, on SQLite and PostgreSQL, against a running plyr: however many
streams are open, the process reads new labels with one poller (statements counted on the
engine) and every stream still gets every label; connections are capped per client address
and in total (a `TooManyConnections` error frame, then the close); a stream that falls more
than the backlog behind gets `ConsumerTooSlow` and is closed instead of buffering."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import libipld
import pytest
import websockets
from sqlalchemy import event

from plyr.atproto.devnet import Network
from plyr.atproto.tid import next_tid
from plyr.moderation import labels
from tests.support.labeler import serve_labeler
from tests.support.plyr_server import PlyrServer

PER_ADDRESS, MAX_STREAMS, BACKLOG = 4, 6, 5
# How long every open stream has to receive a new label: generous, because a loaded CI machine
# can take seconds to schedule the poller and the writes; correctness is that each one gets it.
DELIVERY_SECONDS = 30.0


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    async for server in serve_labeler(
        atproto_net,
        db_url,
        tmp_path_factory.mktemp("streams"),
        labeler_streams_per_address=PER_ADDRESS,
        labeler_streams_max=MAX_STREAMS,
        labeler_stream_backlog=BACKLOG,
    ):
        yield server


def stream_url(plyr: PlyrServer) -> str:
    return plyr.url.replace("http://", "ws://") + "/xrpc/com.atproto.label.subscribeLabels"


async def issue_many(plyr: PlyrServer, count: int) -> list[str]:
    """`count` labels in one transaction (one burst for the streams); their URIs."""
    uris = [f"at://did:plc:streams/fm.plyr.track/{next_tid()}" for _ in range(count)]
    async with plyr.runtime.sessions() as db:
        for uri in uris:
            await labels.issue(plyr.runtime, db, uri=uri, cid=None, val=labels.TAKEDOWN)
        await db.commit()
    return uris


def decode(message: str | bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    assert isinstance(message, bytes)
    header, body = libipld.decode_dag_cbor_multi(message)
    return header, body


async def open_streams(
    plyr: PlyrServer, count: int, source: str = "127.0.0.1"
) -> list[websockets.ClientConnection]:
    # 30 s to open, not websockets' 10: a loaded two-core CI machine has timed a handshake out.
    return [
        await websockets.connect(stream_url(plyr), local_addr=(source, 0), open_timeout=30)
        for _ in range(count)
    ]


async def refused(plyr: PlyrServer, source: str) -> dict[str, Any]:
    """The error frame a stream over the cap gets; the server closes it after."""
    async with websockets.connect(
        stream_url(plyr), local_addr=(source, 0), open_timeout=30
    ) as stream:
        header, body = decode(await asyncio.wait_for(stream.recv(), 5))
        assert header == {"op": -1}
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(stream.recv(), 5)
    return body


async def close_all(streams: list[websockets.ClientConnection]) -> None:
    for stream in streams:
        await stream.close()
    await asyncio.sleep(0.3)  # the server notices the closes


@contextlib.contextmanager
def label_reads(plyr: PlyrServer) -> Any:
    """Counts the statements that read the labels table."""
    counted = [0]

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM labels" in statement:
            counted[0] += 1

    engine = plyr.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_one_poller_serves_every_stream(plyr: PlyrServer) -> None:
    streams = await open_streams(plyr, PER_ADDRESS) + await open_streams(plyr, 2, "127.0.0.2")
    try:
        await asyncio.sleep(0.5)  # every stream has joined and replayed (nothing)
        with label_reads(plyr) as reads:
            await asyncio.sleep(2.0)
        # One poll every 0.4 s for the process (one stream each would be ~30 in 2 s).
        assert reads[0] <= 8, reads[0]

        [uri] = await issue_many(plyr, 1)
        async with asyncio.timeout(DELIVERY_SECONDS):
            for stream in streams:
                header, body = decode(await stream.recv())
                assert header == {"op": 1, "t": "#labels"}
                assert [label["uri"] for label in body["labels"]] == [uri]
    finally:
        await close_all(streams)


async def test_streams_are_capped_per_address_and_in_total(plyr: PlyrServer) -> None:
    local = await open_streams(plyr, PER_ADDRESS)
    try:
        body = await refused(plyr, "127.0.0.1")
        assert body["error"] == "TooManyConnections"
        assert f"at most {PER_ADDRESS} streams per address" in body["message"]
        others = await open_streams(plyr, MAX_STREAMS - PER_ADDRESS, "127.0.0.2")
        body = await refused(plyr, "127.0.0.3")
        assert body["error"] == "TooManyConnections"
        assert f"{MAX_STREAMS} streams at most" in body["message"]
        # The streams still open are served.
        [uri] = await issue_many(plyr, 1)
        async with asyncio.timeout(DELIVERY_SECONDS):
            for stream in local + others:
                _, got = decode(await stream.recv())
                assert got["labels"][0]["uri"] == uri
        await close_all(others)
        # A closed stream frees its place.
        [again] = await open_streams(plyr, 1, "127.0.0.3")
        [uri] = await issue_many(plyr, 1)
        _, got = decode(await asyncio.wait_for(again.recv(), DELIVERY_SECONDS))
        assert got["labels"][0]["uri"] == uri
        local.append(again)
    finally:
        await close_all(local)


async def test_a_stream_too_far_behind_is_closed_with_consumer_too_slow(
    plyr: PlyrServer,
) -> None:
    [kept, behind] = await open_streams(plyr, 2)
    try:
        await asyncio.sleep(0.5)
        # Within the backlog: every label arrives.
        sent = await issue_many(plyr, BACKLOG)
        for _ in sent:
            decode(await asyncio.wait_for(kept.recv(), 5))
            decode(await asyncio.wait_for(behind.recv(), 5))
        await kept.close()
        # A burst past the backlog: the stream is told and closed, not buffered for.
        await issue_many(plyr, BACKLOG * 3)
        async with asyncio.timeout(10):
            frames = [decode(message) async for message in behind]  # until the server closes
        assert frames[-1][0] == {"op": -1}
        assert frames[-1][1]["error"] == "ConsumerTooSlow"
        assert len(frames) - 1 <= BACKLOG
    finally:
        await close_all([kept, behind])
