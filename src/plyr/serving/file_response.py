"""The ASGI response that sends part of an open file: `http.response.pathsend` or
`zerocopysend` when the server offers them, otherwise `pread` in chunks, small cached reads
inline with RWF_NOWAIT (why: see `serve.py`'s docstring), the rest in a thread. Never holds
more than one chunk in memory; owns and closes its file descriptor."""

from __future__ import annotations

import contextlib
import errno
import io
import os
from pathlib import Path

import anyio
import anyio.lowlevel
import anyio.to_thread
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

CHUNK_SIZE = 1024 * 1024
# Reads up to this size are tried on the event loop with RWF_NOWAIT; larger ones use a thread.
# An earlier bench/stream.py measured the choice; see serve.py's docstring.
INLINE_READ_MAX = 256 * 1024

_RWF_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None) if hasattr(os, "preadv") else None


class FileRangeResponse(Response):
    """Sends `length` bytes of an open file from `start`; owns and closes the descriptor."""

    def __init__(
        self,
        *,
        fd: int,
        path: str | Path,
        status_code: int,
        headers: list[tuple[bytes, bytes]],
        start: int,
        length: int,
        whole: bool,
    ) -> None:
        # Starlette's Response.__init__ would render a body; only its attributes are needed.
        self.status_code = status_code
        self.raw_headers = headers
        self.background = None
        self.body = b""
        self._fd: int | None = fd
        self._path = path
        self._start = start
        self._length = length
        self._whole = whole
        self._nowait = _RWF_NOWAIT is not None

    def _close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __del__(self) -> None:
        # A response built but never sent (an error after serve_object) must not leak its fd.
        self._close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._send(scope, receive, send)
        finally:
            self._close()
        if self.background is not None:
            await self.background()

    async def _send(self, scope: Scope, receive: Receive, send: Send) -> None:
        fd = self._fd
        assert fd is not None, "a FileRangeResponse can be sent once"
        extensions = scope.get("extensions") or {}
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        if self._length == 0:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        if self._whole and "http.response.pathsend" in extensions:
            await send({"type": "http.response.pathsend", "path": str(self._path)})
            return
        if "http.response.zerocopysend" in extensions:
            # Wraps the open fd: no file system access here.
            with io.FileIO(fd, "rb", closefd=False) as file:
                await send(
                    {
                        "type": "http.response.zerocopysend",
                        "file": file,
                        "offset": self._start,
                        "count": self._length,
                        "more_body": False,
                    }
                )
            return
        spec = str(scope.get("asgi", {}).get("spec_version", "2.0"))
        # ASGI 2.4 servers raise OSError from send() once the client is gone; older ones
        # drop the message silently, so a watcher has to notice the disconnect instead, or
        # a closed tab would still have the whole file read.
        if tuple(int(part) for part in spec.split(".")[:2]) >= (2, 4):
            with contextlib.suppress(_ClientGone):
                await self._send_chunks(fd, send)
        elif self._length <= CHUNK_SIZE:
            await self._send_chunks(fd, send)
        else:
            async with anyio.create_task_group() as group:
                group.start_soon(_cancel_on_disconnect, receive, group.cancel_scope)
                await self._send_chunks(fd, send)
                group.cancel_scope.cancel()

    async def _send_chunks(self, fd: int, send: Send) -> None:
        offset, remaining = self._start, self._length
        while remaining > 0:
            size = min(CHUNK_SIZE, remaining)
            data = await self._read(fd, offset, size)
            if len(data) < size:
                # Content-Length is out already; the file shrank. Closing the connection
                # (the server does it on an exception) is the only honest answer left.
                raise RuntimeError(f"{self._path} ended {remaining - len(data)} bytes early")
            offset += size
            remaining -= size
            message = {"type": "http.response.body", "body": data, "more_body": remaining > 0}
            try:
                await send(message)
            except OSError as exc:
                raise _ClientGone from exc
            if remaining > 0:
                await anyio.lowlevel.checkpoint()  # fairness: see the module docstring

    async def _read(self, fd: int, offset: int, size: int) -> bytes | bytearray:
        if not self._nowait or size > INLINE_READ_MAX:
            return await anyio.to_thread.run_sync(os.pread, fd, size, offset)
        assert _RWF_NOWAIT is not None
        buffer = bytearray(size)
        try:
            got = os.preadv(fd, [buffer], offset, _RWF_NOWAIT)
        except BlockingIOError:
            got = 0
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise
            self._nowait = False  # this file system cannot say; use threads from now on
            got = 0
        if got == size:
            # Sent as it is, not copied into bytes (256 KiB less to copy per range):
            # servers take any bytes-like body, and nothing writes to it after this.
            return buffer
        # Not (all) in the page cache: the rest comes from the disk, off the event loop.
        rest = await anyio.to_thread.run_sync(os.pread, fd, size - got, offset + got)
        return bytes(buffer[:got]) + rest if got else rest


class _ClientGone(Exception):
    """send() raised: the client disconnected (ASGI 2.4)."""


async def _cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


class HeadersOnly(Response):
    """A response without a body whose headers are given exactly (no added Content-Length)."""

    def __init__(self, status_code: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.status_code = status_code
        self.raw_headers = headers
        self.background = None
        self.body = b""
