"""serve_object under raw ASGI calls: pathsend, zerocopysend, disconnects, memory, reads."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import random
import tracemalloc
from typing import Any

import anyio
import pytest
from fastapi import FastAPI

from plyr.serving import file_response
from tests.support.stored_objects import (
    BIG_SIZE,
    MIB,
    Objects,
    asgi_client,
    open_files,
    streaming_app,
)


class AsgiCall:
    """Drive the app with hand-made ASGI messages and record what it sends."""

    def __init__(
        self,
        app: FastAPI,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        method: str = "GET",
        extensions: dict[str, Any] | None = None,
        spec_version: str = "2.3",
    ) -> None:
        self.app = app
        self.scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": spec_version},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
            "client": ("127.0.0.1", 40000),
            "server": ("plyr.test", 80),
            "extensions": extensions or {},
        }
        self.messages: list[dict[str, Any]] = []
        self.body_bytes = 0
        self.digest = hashlib.sha256()
        self.disconnected = asyncio.Event()
        self.keep_bodies = True
        self._request_sent = False

    async def receive(self) -> dict[str, Any]:
        if not self._request_sent:
            self._request_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            body = message.get("body", b"")
            self.body_bytes += len(body)
            self.digest.update(body)
            if not self.keep_bodies:
                message = {**message, "body": len(body)}
        self.messages.append(message)

    async def run(self) -> AsgiCall:
        await self.app(self.scope, self.receive, self.send)  # type: ignore[arg-type]
        return self

    @property
    def start(self) -> dict[str, Any]:
        assert self.messages[0]["type"] == "http.response.start"
        return self.messages[0]

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.start["headers"]}


async def test_pathsend_for_whole_files(objects: Objects) -> None:
    app = streaming_app(objects.storage)
    extensions: dict[str, Any] = {"http.response.pathsend": {}}
    call = await AsgiCall(app, f"/o/{objects.big_key}", extensions=extensions).run()
    assert call.start["status"] == 200
    assert call.headers["content-length"] == str(BIG_SIZE)
    assert call.messages[1:] == [
        {"type": "http.response.pathsend", "path": str(objects.storage.path_for(objects.big_key))}
    ]
    # `bytes=0-` (what <audio> asks first) is the whole file too: a 206 sent by pathsend.
    whole = await AsgiCall(
        app, f"/o/{objects.big_key}", headers={"Range": "bytes=0-"}, extensions=extensions
    ).run()
    assert whole.start["status"] == 206
    assert whole.headers["content-range"] == f"bytes 0-{BIG_SIZE - 1}/{BIG_SIZE}"
    assert whole.messages[1:] == call.messages[1:]
    # Other ranges are not what pathsend can express: they are read and sent as body chunks.
    ranged = await AsgiCall(
        app, f"/o/{objects.big_key}", headers={"Range": "bytes=1-"}, extensions=extensions
    ).run()
    assert ranged.start["status"] == 206
    assert all(m["type"] == "http.response.body" for m in ranged.messages[1:])
    assert ranged.digest.digest() == hashlib.sha256(objects.big[1:]).digest()


async def test_zerocopysend(objects: Objects) -> None:
    app = streaming_app(objects.storage)
    seen: list[bytes] = []

    class ZeroCopy(AsgiCall):
        async def send(self, message: dict[str, Any]) -> None:
            if message["type"] == "http.response.zerocopysend":
                fd = message["file"].fileno()
                seen.append(os.pread(fd, message["count"], message["offset"]))
            await super().send(message)

    extensions: dict[str, Any] = {"http.response.zerocopysend": {}, "http.response.pathsend": {}}
    call = await ZeroCopy(
        app, f"/o/{objects.big_key}", headers={"Range": "bytes=100-199"}, extensions=extensions
    ).run()
    assert call.start["status"] == 206
    assert [m["type"] for m in call.messages[1:]] == ["http.response.zerocopysend"]
    assert call.messages[1]["more_body"] is False
    assert seen == [objects.big[100:200]]


async def test_disconnect_stops_reading(objects: Objects) -> None:
    """ASGI 2.3 servers (uvicorn) swallow sends after a disconnect: the watcher must stop."""
    data = os.urandom(40 * MIB)
    key = objects.add(data)
    app = streaming_app(objects.storage)
    before = open_files(objects)

    class HangUp(AsgiCall):
        async def send(self, message: dict[str, Any]) -> None:
            await super().send(message)
            if self.body_bytes >= 2 * MIB:
                self.disconnected.set()
            await asyncio.sleep(0)  # a real server yields to the loop on each write

    call = HangUp(app, f"/o/{key}")
    call.keep_bodies = False
    with anyio.fail_after(10):
        await call.run()
    assert 2 * MIB <= call.body_bytes < 8 * MIB
    assert open_files(objects) == before


async def test_send_error_ends_the_response_quietly(objects: Objects) -> None:
    """ASGI 2.4 servers raise OSError from send() once the client is gone."""
    app = streaming_app(objects.storage)
    before = open_files(objects)

    class Broken(AsgiCall):
        async def send(self, message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body" and self.body_bytes >= MIB:
                raise OSError("connection lost")
            await super().send(message)

    call = await Broken(app, f"/o/{objects.big_key}", spec_version="2.4").run()
    assert call.body_bytes == MIB
    assert open_files(objects) == before


async def test_memory_stays_bounded(objects: Objects) -> None:
    data_size = 50 * MIB
    rng = random.Random(3)
    data = rng.randbytes(data_size)
    key = objects.add(data)
    expected = hashlib.sha256(data).digest()
    del data
    app = streaming_app(objects.storage)
    for headers in ({}, {"Range": "bytes=0-"}):
        call = AsgiCall(app, f"/o/{key}", headers=headers)
        call.keep_bodies = False
        tracemalloc.start()
        try:
            await call.run()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert call.body_bytes == data_size
        assert call.digest.digest() == expected
        # One chunk and its copy, plus bookkeeping: far below the 50 MB file.
        assert peak < 4 * MIB, f"peak {peak / MIB:.1f} MiB"


async def test_uncached_and_unsupported_reads_fall_back_to_threads(
    objects: Objects, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = objects.storage.path_for(objects.big_key)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # out of the page cache
    finally:
        os.close(fd)
    async with asgi_client(streaming_app(objects.storage)) as client:
        threaded: list[object] = []
        real_run_sync = anyio.to_thread.run_sync

        async def counting_run_sync(func: Any, *args: Any) -> Any:
            threaded.append(func)
            return await real_run_sync(func, *args)

        monkeypatch.setattr(anyio.to_thread, "run_sync", counting_run_sync)
        cold = await client.get(f"/o/{objects.big_key}", headers={"Range": "bytes=1000-200000"})
        assert cold.content == objects.big[1000:200001]
        assert threaded == [os.pread]  # RWF_NOWAIT said "not cached": the disk read moved
        warm = await client.get(f"/o/{objects.big_key}", headers={"Range": "bytes=1000-200000"})
        assert warm.content == objects.big[1000:200001]
        assert threaded == [os.pread]  # now cached: read on the loop

        def unsupported(*args: object) -> int:
            raise OSError(errno.EOPNOTSUPP, "Operation not supported")

        monkeypatch.setattr(os, "preadv", unsupported)
        response = await client.get(f"/o/{objects.big_key}", headers={"Range": "bytes=0-99999"})
        assert response.content == objects.big[:100000]
        assert threaded == [os.pread, os.pread]
        monkeypatch.setattr(file_response, "_RWF_NOWAIT", None)
        response = await client.get(f"/o/{objects.big_key}", headers={"Range": "bytes=-70000"})
        assert response.content == objects.big[-70000:]


async def test_small_inline_limit_uses_threads_for_large_chunks(
    objects: Objects, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(file_response, "INLINE_READ_MAX", 64 * 1024)
    async with asgi_client(streaming_app(objects.storage)) as client:
        response = await client.get(f"/o/{objects.big_key}", headers={"Range": "bytes=7-"})
        assert response.content == objects.big[7:]
