"""An answer whose bytes are made while it is sent (a transcode): `LiveResponse` runs a
blocking producer in a worker thread and sends each chunk it emits as it comes.

- **Bounded memory:** chunks pass through a memory stream of `BUFFERED_CHUNKS`; a producer
  ahead of the client waits in `emit` until the client has taken one, so a slow listener
  slows the encoder rather than filling memory.
- **Stopped when the client leaves:** a task watches for `http.disconnect` (servers before
  ASGI 2.4 drop sends to a gone client silently). On a disconnect, an error or the end,
  the stop event is set and the stream closed: the producer's next `emit` raises
  `Stopped`, or it sees `stopped()` between packets, and the answer returns only once the
  thread has ended, so nothing keeps encoding for nobody.
- **Nothing is promised before the source opens:** the status line waits for the first
  chunk, so a source that cannot be read (missing, damaged) is answered by `on_fail`'s
  answer (an error) rather than an empty 200.
- **A client that stops reading** for `IDLE_SECONDS` (a send waits that long) is left:
  the producer stops and what it holds (a transcode slot) is given back.
- **Content-Length**, when given (an estimate), is kept to exactly: bytes beyond it are
  dropped and a shorter output is padded with zeros (decoders skip them as they skip any
  junk between frames); the HTTP framing never lies. Without it the answer is chunked.

No Range, no validators: the bytes are made anew each time (`Accept-Ranges: none`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from asyncio import CancelledError
from collections.abc import Callable

import anyio
import anyio.from_thread
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

log = logging.getLogger(__name__)

BUFFERED_CHUNKS = 4
PAD_CHUNK = 64 * 1024
IDLE_SECONDS = 60.0

Emit = Callable[[bytes], None]
Producer = Callable[[Emit, Callable[[], bool]], None]


class Stopped(Exception):
    """Raised in the producer's thread by `emit` once the answer no longer wants bytes."""


class LiveResponse(Response):
    """Send what `produce(emit, stopped)` emits, from a worker thread. `on_close` runs once
    when the answer is done (sent, failed, abandoned, or dropped unsent)."""

    def __init__(
        self,
        produce: Producer,
        *,
        headers: list[tuple[bytes, bytes]],
        content_length: int | None = None,
        on_close: Callable[[], None] | None = None,
        on_fail: Callable[[BaseException], Response] | None = None,
        status_code: int = 200,
    ) -> None:
        # Starlette's Response.__init__ would render a body; only its attributes are needed.
        self.status_code = status_code
        self.raw_headers = [*headers, (b"accept-ranges", b"none")]
        if content_length is not None:
            self.raw_headers.append((b"content-length", str(content_length).encode()))
        self.background = None
        self.body = b""
        self._produce = produce
        self._length = content_length
        self._on_close = on_close
        self._on_fail = on_fail
        self.idle_seconds = IDLE_SECONDS

    def _close(self) -> None:
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    def __del__(self) -> None:
        self._close()  # built but never sent: give back what it holds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._send(scope, receive, send)
        finally:
            self._close()

    async def _send(self, scope: Scope, receive: Receive, send: Send) -> None:
        sender, chunks = anyio.create_memory_object_stream[bytes](BUFFERED_CHUNKS)
        stop = threading.Event()
        failed: list[BaseException] = []
        started = False
        async with anyio.create_task_group() as group:
            group.start_soon(self._run, sender, stop, failed)
            group.start_soon(_cancel_on_disconnect, receive, group.cancel_scope)
            try:
                first = await _next(chunks)
                if first is None and failed and self._on_fail is not None:
                    await self._on_fail(failed[0])(scope, receive, send)
                    return
                started = True
                start = {"type": "http.response.start", "status": self.status_code}
                await send({**start, "headers": self.raw_headers})
                with contextlib.suppress(OSError):  # ASGI 2.4: the client is gone
                    await self._forward(first, chunks, send, failed)
            finally:
                stop.set()
                chunks.close()
                group.cancel_scope.cancel()  # the watcher; the producer has finished
        if failed and started:
            # The status line is out: closing the connection (the server does it when the
            # app raises) is the only way left to say the bytes are not all there.
            raise RuntimeError("the live answer's producer failed") from failed[0]

    async def _run(
        self,
        sender: MemoryObjectSendStream[bytes],
        stop: threading.Event,
        failed: list[BaseException],
    ) -> None:
        def emit(data: bytes) -> None:
            if stop.is_set():
                raise Stopped
            try:
                anyio.from_thread.run(sender.send, data)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, CancelledError):
                # The send runs in this task's scope: cancelled with it when the client left.
                raise Stopped from None

        with sender:
            try:
                # Not abandoned on cancel: the answer waits for the thread to end.
                await anyio.to_thread.run_sync(self._produce, emit, stop.is_set)
            except Stopped:
                pass
            except Exception as exc:
                log.warning("a live answer stopped: %s", exc)
                failed.append(exc)

    async def _forward(
        self,
        first: bytes | None,
        chunks: MemoryObjectReceiveStream[bytes],
        send: Send,
        failed: list[BaseException],
    ) -> None:
        left = self._length

        async def body(chunk: bytes) -> None:
            with anyio.fail_after(self.idle_seconds):  # TimeoutError: the client is idle
                await send({"type": "http.response.body", "body": chunk, "more_body": True})

        chunk = first
        while chunk is not None:
            if left is not None:
                chunk = chunk[:left]
                left -= len(chunk)
            if chunk:
                try:
                    await body(chunk)
                except TimeoutError:
                    log.info("a live answer's client read nothing for %s s", self.idle_seconds)
                    return  # unfinished: the server closes the connection
            if left == 0:
                break
            chunk = await _next(chunks)
        if failed:
            return
        while left:  # the output came out shorter than the estimate
            pad = min(left, PAD_CHUNK)
            left -= pad
            await send({"type": "http.response.body", "body": bytes(pad), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _next(chunks: MemoryObjectReceiveStream[bytes]) -> bytes | None:
    """The next chunk, or None when the producer ended without one."""
    try:
        return await chunks.receive()
    except anyio.EndOfStream:
        return None


async def _cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()
