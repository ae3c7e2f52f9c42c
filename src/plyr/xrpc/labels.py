"""The labeler's endpoints: `GET /xrpc/com.atproto.label.queryLabels` and the WebSocket
`/xrpc/com.atproto.label.subscribeLabels`.

A stream frame is two concatenated DAG-CBOR objects, a header and a body (the event-stream
spec): `{op: 1, t: "#labels"}` + `{seq, labels: [label]}`, one frame per label, `seq` the
label's own. With `cursor=N` the stream replays every label after N, then follows; without
one it follows only. A cursor past the newest label gets an error frame (`{op: -1}` +
`{error: "FutureCursor"}`) and the stream closes. Nothing is ever pruned, so no cursor is
outdated (no `#info` frame). A malformed cursor is refused before the upgrade (HTTP 400)
when the server can send one, otherwise by an `InvalidRequest` error frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from plyr.atproto import dagcbor
from plyr.atproto.syntax.did import is_valid_did
from plyr.moderation import labels
from plyr.runtime import Runtime
from plyr.xrpc.errors import invalid_request

log = logging.getLogger(__name__)

router = APIRouter()

QUERY = "/xrpc/com.atproto.label.queryLabels"
SUBSCRIBE = "/xrpc/com.atproto.label.subscribeLabels"
BATCH = 500


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


def frame(header: dict[str, Any], body: dict[str, Any]) -> bytes:
    return dagcbor.encode_ipld(header) + dagcbor.encode_ipld(body)


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
    newest = await labels.latest_seq(runtime)
    if cursor is not None and cursor > newest:
        await websocket.send_bytes(
            error_frame("FutureCursor", f"cursor {cursor} is past the newest label ({newest})")
        )
        await websocket.close()
        return
    gone = asyncio.Event()
    watcher = asyncio.create_task(_watch_disconnect(websocket, gone))
    try:
        await _follow(runtime, websocket, newest if cursor is None else cursor, gone)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client left mid-send
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def _follow(runtime: Runtime, websocket: WebSocket, after: int, gone: asyncio.Event) -> None:
    """Send every label after `after`, then wait for more, until the client leaves."""
    while not gone.is_set():
        rows = await labels.since(runtime, after, BATCH)
        for row in rows:
            await websocket.send_bytes(
                frame(
                    {"op": 1, "t": "#labels"},
                    {"seq": row.seq, "labels": [labels.label_cbor_view(row)]},
                )
            )
            after = row.seq
        if len(rows) < BATCH:
            waiting = asyncio.ensure_future(labels.wait_for_new(runtime))
            left = asyncio.ensure_future(gone.wait())
            await asyncio.wait({waiting, left}, return_when=asyncio.FIRST_COMPLETED)
            for task in (waiting, left):
                task.cancel()


async def _watch_disconnect(websocket: WebSocket, gone: asyncio.Event) -> None:
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


async def _refuse(websocket: WebSocket, message: str) -> None:
    """400 before the upgrade where the server can say so; else an error frame."""
    extensions = websocket.scope.get("extensions") or {}
    if "websocket.http.response" in extensions:
        await websocket.send_denial_response(invalid_request(message))
        return
    await websocket.accept()
    await websocket.send_bytes(error_frame("InvalidRequest", message))
    await websocket.close(code=1008)
