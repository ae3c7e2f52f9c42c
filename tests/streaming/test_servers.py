"""Serving stored objects through real servers: uvicorn, nginx (docs/nginx.conf), /media."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import random
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType

import anyio
import httpx
import pytest
from fastapi import FastAPI

from plyr.serving import file_response
from plyr.serving.validators import content_disposition
from tests.conftest import make_settings
from tests.support.ports import free_port
from tests.support.serving import uvicorn_serving as serving
from tests.support.storage import chunks_of
from tests.support.stored_objects import (
    BIG_SIZE,
    MIB,
    NON_ASCII_NAME,
    Objects,
    key_for,
    open_files,
    settings_for,
    streaming_app,
)


@asynccontextmanager
async def uvicorn_serving(app: FastAPI) -> AsyncIterator[str]:
    port = free_port()
    async with serving(app, port, lifespan="off"):
        yield f"http://127.0.0.1:{port}"


def mounted_app(objects: Objects, tmp_path: Path) -> FastAPI:
    """Plain serving at `/`, and the two offload modes mounted beside it."""
    app = streaming_app(objects.storage)
    app.mount(
        "/accel",
        streaming_app(objects.storage, settings_for(tmp_path, media_offload="x-accel-redirect")),
    )
    app.mount(
        "/sendfile",
        streaming_app(objects.storage, settings_for(tmp_path, media_offload="x-sendfile")),
    )
    return app


async def test_through_uvicorn(objects: Objects, tmp_path: Path) -> None:
    big, size = objects.big, BIG_SIZE
    async with (
        uvicorn_serving(mounted_app(objects, tmp_path)) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        url = f"/o/{objects.big_key}"
        whole = await client.get(url)
        assert whole.status_code == 200
        assert whole.content == big
        assert whole.headers["content-length"] == str(size)
        assert whole.headers["accept-ranges"] == "bytes"
        etag = whole.headers["etag"]

        for header, start, end in [
            ("bytes=0-99", 0, 99),
            ("bytes=2000000-", 2000000, size - 1),
            ("bytes=-4096", size - 4096, size - 1),
            ("bytes=0-", 0, size - 1),
        ]:
            part = await client.get(url, headers={"Range": header})
            assert part.status_code == 206, header
            assert part.headers["content-range"] == f"bytes {start}-{end}/{size}"
            assert part.content == big[start : end + 1]

        rng = random.Random(99)
        for _ in range(50):
            start = rng.randrange(size)
            end = min(size - 1, start + rng.randrange(1, 600_000))
            part = await client.get(url, headers={"Range": f"bytes={start}-{end}"})
            assert part.status_code == 206
            assert part.content == big[start : end + 1]

        unsatisfiable = await client.get(url, headers={"Range": f"bytes={size}-"})
        assert unsatisfiable.status_code == 416
        assert unsatisfiable.headers["content-range"] == f"bytes */{size}"

        assert (await client.get(url, headers={"If-None-Match": etag})).status_code == 304
        stale = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
        assert stale.status_code == 200
        assert stale.content == big

        head = await client.head(url)
        assert head.status_code == 200
        assert head.headers["content-length"] == str(size)
        assert head.content == b""

        download = await client.get(f"/o/{objects.small_key}", params={"download": NON_ASCII_NAME})
        assert download.headers["content-disposition"] == content_disposition(NON_ASCII_NAME)
        assert download.content == objects.small

        accel = await client.get(f"/accel/o/{objects.big_key}")
        assert accel.status_code == 200
        assert accel.content == b""
        assert accel.headers["x-accel-redirect"] == f"/_protected_media/{objects.big_key}"
        sendfile = await client.get(f"/sendfile/o/{objects.big_key}")
        assert sendfile.headers["x-sendfile"] == str(objects.storage.path_for(objects.big_key))

        missing = await client.get(
            "/o/audio/00/missing.mp3", headers={"Accept": "application/json"}
        )
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"


async def test_client_hanging_up_over_a_socket(
    objects: Objects, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = objects.add(os.urandom(60 * MIB))
    read = 0
    real_read = file_response.FileRangeResponse._read

    async def counting_read(
        self: file_response.FileRangeResponse, fd: int, offset: int, size: int
    ) -> bytes:
        nonlocal read
        read += size
        data: bytes = await real_read(self, fd, offset, size)
        return data

    monkeypatch.setattr(file_response.FileRangeResponse, "_read", counting_read)
    async with uvicorn_serving(streaming_app(objects.storage)) as base:
        port = int(base.rsplit(":", 1)[1])
        before = open_files(objects)
        for _ in range(3):
            stream = await anyio.connect_tcp("127.0.0.1", port)
            await stream.send(
                f"GET /o/{key} HTTP/1.1\r\nHost: t\r\nRange: bytes=0-\r\n\r\n".encode()
            )
            received = 0
            while received < 512 * 1024:
                received += len(await stream.receive())
            # Closing with unread data makes the kernel send a reset, as a closed tab does.
            await stream.aclose()
        # The server notices, stops reading and closes the file.
        with anyio.fail_after(5):
            while open_files(objects) > before:  # noqa: ASYNC110 - polling the process's fds
                await asyncio.sleep(0.02)
    # What the socket buffers held, and a chunk or two: not the 180 MB asked for.
    assert read < 3 * 20 * MIB, f"read {read / MIB:.0f} MiB"


def load_bench() -> ModuleType:
    """bench/stream.py, which knows how to run docs/nginx.conf on loopback."""
    path = Path(__file__).resolve().parents[2] / "bench" / "stream.py"
    spec = importlib.util.spec_from_file_location("plyr_bench_stream", path)
    assert spec is not None
    assert spec.loader is not None
    if spec.name in sys.modules:
        return sys.modules[spec.name]
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(
    shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(), reason="no nginx"
)
async def test_docs_nginx_conf_offloads_to_nginx(objects: Objects, tmp_path: Path) -> None:
    """docs/nginx.conf (TLS stripped) in front of plyr in x-accel-redirect mode."""
    bench = load_bench()
    media = objects.storage.root
    settings = settings_for(tmp_path, media_offload="x-accel-redirect")
    async with uvicorn_serving(streaming_app(objects.storage, settings)) as base:
        port = int(base.rsplit(":", 1)[1])
        with bench.nginx_server(tmp_path / "nginx-run", media, port) as (_, proxy):
            async with httpx.AsyncClient(base_url=proxy) as client:
                url = f"/o/{objects.big_key}"
                whole = await client.get(url, params={"download": NON_ASCII_NAME})
                assert whole.status_code == 200
                assert whole.content == objects.big
                assert whole.headers["content-type"] == "audio/mpeg"
                assert whole.headers["cache-control"] == "public, max-age=31536000, immutable"
                assert whole.headers["content-disposition"] == content_disposition(NON_ASCII_NAME)
                assert "x-accel-redirect" not in whole.headers
                etag = whole.headers["etag"]  # nginx's own validator
                for header, start, end in [
                    ("bytes=0-", 0, BIG_SIZE - 1),
                    ("bytes=100-199", 100, 199),
                    ("bytes=-10", BIG_SIZE - 10, BIG_SIZE - 1),
                ]:
                    part = await client.get(url, headers={"Range": header})
                    assert part.status_code == 206
                    assert part.headers["content-range"] == f"bytes {start}-{end}/{BIG_SIZE}"
                    assert part.content == objects.big[start : end + 1]
                assert (
                    await client.get(url, headers={"Range": f"bytes={BIG_SIZE}-"})
                ).status_code == 416
                assert (await client.get(url, headers={"If-None-Match": etag})).status_code == 304
                stale = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
                assert stale.status_code == 200
                assert len(stale.content) == BIG_SIZE
                direct = await client.get(f"/_protected_media/{objects.big_key}")
                assert direct.status_code == 404
                missing = await client.get(
                    "/o/audio/00/missing.mp3", headers={"Accept": "application/json"}
                )
                assert missing.status_code == 404
                assert missing.json()["error"]["code"] == "not_found"


async def test_media_route_of_the_app(tmp_path: Path) -> None:
    from tests.support.plyr_server import running_plyr  # the whole app: imported when used

    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'plyr.db'}")
    data = random.Random(5).randbytes(700_000)
    async with running_plyr(settings) as server, httpx.AsyncClient(base_url=server.url) as client:
        stored = await server.runtime.storage.put(key_for(data), chunks_of(data))
        url = f"/media/{stored.key}"
        assert url == (await server.runtime.storage.url(stored.key)).removeprefix(server.url)
        whole = await client.get(url)
        assert whole.status_code == 200
        assert whole.content == data
        assert whole.headers["content-type"] == "audio/mpeg"
        assert whole.headers["cache-control"] == "public, max-age=31536000, immutable"
        part = await client.get(url, headers={"Range": "bytes=-10"})
        assert part.status_code == 206
        assert part.content == data[-10:]
        assert (await client.head(url)).headers["content-length"] == str(len(data))
        assert (
            await client.get(url, headers={"If-None-Match": whole.headers["etag"]})
        ).status_code == 304
        assert (await client.get("/media/audio/00/nothing.mp3")).status_code == 404
        assert (await client.get("/media/Audio/Bad..key")).status_code == 404
