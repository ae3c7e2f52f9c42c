"""The labeler's endpoints: `GET /xrpc/com.atproto.label.queryLabels` and the WebSocket
`/xrpc/com.atproto.label.subscribeLabels`.

A stream frame is two concatenated DAG-CBOR objects, a header and a body (the event-stream
spec): `{op: 1, t: "#labels"}` + `{seq, labels: [label]}`, one frame per label, `seq` the
label's own. With `cursor=N` the stream replays every label after N, then follows; without
one it follows only. A cursor past the newest label gets an error frame (`{op: -1}` +
`{error: "FutureCursor"}`) and the stream closes. Nothing is ever pruned, so no cursor is
outdated (no `#info` frame). A malformed cursor is refused before the upgrade (HTTP 400)
when the server can send one, otherwise by an `InvalidRequest` error frame.

Streams do not poll the database each: one poller per process fans new labels out
(`plyr.xrpc.label_feed`); a stream replays its cursor's backlog itself, then follows the
feed. Past the connection caps a stream gets a `TooManyConnections` error frame; one that
falls too far behind gets `ConsumerTooSlow` (as subscribeRepos names it) and is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from plyr.atproto.syntax.did import is_valid_did
from plyr.moderation import labels
from plyr.runtime import Runtime
from plyr.xrpc import label_feed
from plyr.xrpc.errors import invalid_request
from plyr.xrpc.label_feed import frame

log = logging.getLogger(__name__)

router = APIRouter()

QUERY = "/xrpc/com.atproto.label.queryLabels"
SUBSCRIBE = "/xrpc/com.atproto.label.subscribeLabels"


@router.get(QUERY, include_in_schema=False)
async def query_labels(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    params = request.query_params
    sources = params.getlist("sources")
    for source in sources:
        if not is_valid_did(source):
            return invalid_request(f"sources holds DIDs; {source[:100]!r} is not one")
    try:
        limit = labels.parse_limit(params.get("limit"))
        page = await labels.query(
            runtime,
            uri_patterns=params.getlist("uriPatterns"),
            sources=sources or None,
            cursor=params.get("cursor"),
            limit=limit,
        )
    except labels.InvalidQuery as exc:
        return invalid_request(str(exc))
    body: dict[str, Any] = {"labels": [labels.label_json_view(row) for row in page.labels]}
    if page.cursor is not None:
        body["cursor"] = page.cursor
    return JSONResponse(body)


def error_frame(error: str, message: str) -> bytes:
    return frame({"op": -1}, {"error": error, "message": message})


@router.websocket(SUBSCRIBE)
async def subscribe_labels(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    raw = websocket.query_params.get("cursor")
    try:
        cursor = None if raw is None else labels.parse_cursor(raw)
    except labels.InvalidQuery as exc:
        await _refuse(websocket, str(exc))
        return
    await websocket.accept()
    feed = label_feed.feed_for(runtime)
    try:
        subscriber = feed.join(runtime, websocket.client.host if websocket.client else "unknown")
    except label_feed.Full as exc:
        await _close_with(websocket, "TooManyConnections", str(exc), code=1013)
        return
    gone = asyncio.Event()
    watcher = asyncio.create_task(_watch_disconnect(websocket, gone, subscriber))
    try:
        await feed.ready.wait()  # the poller knows where it starts: replay reaches past it
        newest = await labels.latest_seq(runtime)
        if cursor is not None and cursor > newest:
            await _close_with(
                websocket, "FutureCursor", f"cursor {cursor} is past the newest label ({newest})"
            )
            return
        after = await _replay(runtime, websocket, newest if cursor is None else cursor)
        await _follow(websocket, subscriber, after, gone)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client left mid-send
    finally:
        subscriber.leave()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def _replay(runtime: Runtime, websocket: WebSocket, after: int) -> int:
    """Send the stored labels after `after` (a cursor's backlog); the last seq sent."""
    while True:
        rows = await labels.since(runtime, after, label_feed.BATCH)
        for row in rows:
            await websocket.send_bytes(label_feed.label_frame(row))
            after = row.seq
        if len(rows) < label_feed.BATCH:
            return after


async def _follow(
    websocket: WebSocket, subscriber: label_feed.Subscriber, after: int, gone: asyncio.Event
) -> None:
    """Send what the feed offers (skipping what the replay sent) until the client leaves."""
    while not gone.is_set():
        if subscriber.overflowed:
            await _close_with(
                websocket,
                "ConsumerTooSlow",
                f"more than {subscriber.bound} labels behind; reconnect with cursor={after}",
            )
            return
        while subscriber.queue:
            seq, data = subscriber.queue.popleft()
            if seq > after:
                await websocket.send_bytes(data)
                after = seq
        if subscriber.overflowed or gone.is_set():
            continue
        subscriber.wake.clear()
        await subscriber.wake.wait()


async def _close_with(websocket: WebSocket, error: str, message: str, code: int = 1000) -> None:
    await websocket.send_bytes(error_frame(error, message))
    await websocket.close(code=code)


async def _watch_disconnect(
    websocket: WebSocket, gone: asyncio.Event, subscriber: label_feed.Subscriber
) -> None:
    """Clients send nothing; reading is how a closed connection is noticed."""
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        gone.set()
        subscriber.wake.set()


async def _refuse(websocket: WebSocket, message: str) -> None:
    """400 before the upgrade where the server can say so; else an error frame."""
    extensions = websocket.scope.get("extensions") or {}
    if "websocket.http.response" in extensions:
        await websocket.send_denial_response(invalid_request(message))
        return
    await websocket.accept()
    await websocket.send_bytes(error_frame("InvalidRequest", message))
    await websocket.close(code=1008)
