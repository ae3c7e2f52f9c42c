"""Serving stored objects: HTTP semantics, the ASGI fast paths, offload, S3 redirects.

Most tests talk to a small app around `serve_object` in-process (httpx's ASGI transport,
or raw ASGI calls to see the messages); one group goes through a real uvicorn on a free
port, and one through plyr's own `/media/{key}` route.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import importlib.util
import os
import random
import shutil
import sys
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.utils import formatdate
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

import anyio
import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError

from plyr.config import Settings
from plyr.storage.base import Storage, content_key
from plyr.storage.local import LocalStorage
from plyr.storage.s3 import S3Storage
from plyr.web import streaming
from plyr.web.errors import install_error_handlers
from plyr.web.streaming import (
    ByteRange,
    content_disposition,
    etag_matches,
    parse_http_date,
    parse_range,
    serve_object,
    strong_etag,
)
from plyr.web.templating import STATIC_DIR
from tests.conftest import free_port, make_settings
from tests.support.seaweedfs import S3Server
from tests.test_storage import admin_client, remove_bucket, s3_settings

MIB = 1024 * 1024
BIG_SIZE = 3 * MIB + 123  # several chunks, not a multiple of one
SMALL_SIZE = 1000
NON_ASCII_NAME = 'Café "Ümlaut" \u2013 東京/night.mp3'


# --- fixtures ---------------------------------------------------------------------------


def key_for(data: bytes, extension: str = "mp3") -> str:
    return content_key("audio", hashlib.sha256(data).hexdigest(), extension)


class Objects:
    """A local storage holding a big, a small and an empty object."""

    def __init__(self, root: Path) -> None:
        self.storage = LocalStorage(root, "http://plyr.test")
        rng = random.Random(7)
        self.big = rng.randbytes(BIG_SIZE)
        self.small = rng.randbytes(SMALL_SIZE)
        self.empty = b""
        self.big_key = self.add(self.big)
        self.small_key = self.add(self.small)
        self.empty_key = self.add(self.empty, "ogg")

    def add(self, data: bytes, extension: str = "mp3") -> str:
        key = key_for(data, extension)
        path = self.storage.path_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return key


@pytest.fixture
def objects(tmp_path: Path) -> Objects:
    return Objects(tmp_path / "media")


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    return make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", **overrides)


def streaming_app(storage: Storage, settings: Settings | None = None) -> FastAPI:
    """`/o/{key}` around serve_object; `?download=` and `?mutable=1` reach its options."""
    app = FastAPI()
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")  # for error pages
    if settings is not None:
        app.state.settings = settings

    @app.api_route("/o/{key:path}", methods=["GET", "HEAD"])
    async def serve(
        key: str, request: Request, download: str | None = None, mutable: bool = False
    ) -> Response:
        return await serve_object(
            request,
            storage,
            key,
            content_type="audio/mpeg",
            download_name=download,
            immutable=not mutable,
        )

    return app


@asynccontextmanager
async def asgi_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://plyr.test") as client:
        yield client


@pytest.fixture
async def client(objects: Objects) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(streaming_app(objects.storage)) as client:
        yield client


def open_files(objects: Objects) -> int:
    """Descriptors this process holds on files of the test storage (not sockets, not others)."""
    root = str(objects.storage.root)
    count = 0
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{name}").startswith(root):
                count += 1
    return count


# --- pure functions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-99", 1000, (ByteRange(0, 99),)),
        ("bytes=500-", 1000, (ByteRange(500, 999),)),
        ("bytes=-100", 1000, (ByteRange(900, 999),)),
        ("bytes=-5000", 1000, (ByteRange(0, 999),)),
        ("bytes=0-", 1000, (ByteRange(0, 999),)),
        ("bytes=990-5000", 1000, (ByteRange(990, 999),)),
        ("BYTES = 1-2", 1000, (ByteRange(1, 2),)),
        ("bytes=0-0", 1, (ByteRange(0, 0),)),
        # Coalescing: overlapping and adjacent ranges become one.
        ("bytes=0-9,5-19", 1000, (ByteRange(0, 19),)),
        ("bytes=10-19,0-9", 1000, (ByteRange(0, 19),)),
        ("bytes=0-9, 20-29", 1000, (ByteRange(0, 9), ByteRange(20, 29))),
        ("bytes=0-9,2000-", 1000, (ByteRange(0, 9),)),  # unsatisfiable ones are dropped
        ("bytes=0-9,,", 1000, (ByteRange(0, 9),)),
        # Unsatisfiable: 416.
        ("bytes=1000-", 1000, ()),
        ("bytes=1000-2000", 1000, ()),
        ("bytes=-0", 1000, ()),
        # Ignored: 200 with the whole file.
        ("bytes=5-4", 1000, None),
        ("bytes=abc", 1000, None),
        ("bytes=-", 1000, None),
        ("bytes=1-2-3", 1000, None),
        ("items=0-9", 1000, None),
        ("bytes0-9", 1000, None),
        ("bytes=0-9", 0, None),
        ("bytes=" + ",".join(f"{i}-{i}" for i in range(0, 80, 2)), 1000, None),
        ("bytes=" + "9" * 5000 + "-", 1000, None),
    ],
)
def test_parse_range(header: str, size: int, expected: tuple[ByteRange, ...] | None) -> None:
    assert parse_range(header, size) == expected


def test_etag_matching() -> None:
    etag = '"abc-10"'
    assert etag_matches('"abc-10"', etag, weak=False)
    assert etag_matches('"x", "abc-10"', etag, weak=False)
    assert etag_matches("*", etag, weak=False)
    assert etag_matches('W/"abc-10"', etag, weak=True)
    assert not etag_matches('W/"abc-10"', etag, weak=False)
    assert not etag_matches('"abc-1"', etag, weak=True)
    assert etag_matches('"a,b", "abc-10"', etag, weak=False)  # commas inside a tag
    assert not etag_matches("abc-10", etag, weak=True)  # unquoted is not a tag


def test_http_dates() -> None:
    assert parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == 784111777
    assert parse_http_date("Sun Nov  6 08:49:37 1994") == 784111777
    assert parse_http_date("yesterday") is None
    assert parse_http_date("") is None
    assert parse_http_date(None) is None


def test_content_disposition() -> None:
    header = content_disposition(NON_ASCII_NAME)
    assert header.startswith("attachment; ")
    assert 'filename="Cafe _Umlaut_  night.mp3"' in header
    encoded = quote('Café "Ümlaut" \u2013 東京night.mp3', safe="!#$&+-.^_`|~")
    assert header.endswith(f"filename*=UTF-8''{encoded}")
    assert header.isascii()
    assert content_disposition("\x00\n") == (
        "attachment; filename=\"download\"; filename*=UTF-8''download"
    )


def test_strong_etag_depends_on_key_and_size() -> None:
    assert strong_etag("audio/aa/x.mp3", 10) == strong_etag("audio/aa/x.mp3", 10)
    assert strong_etag("audio/aa/x.mp3", 10) != strong_etag("audio/aa/y.mp3", 10)
    assert strong_etag("audio/aa/x.mp3", 10) != strong_etag("audio/aa/x.mp3", 11)
    assert strong_etag("audio/aa/x.mp3", 10).startswith('"')


def test_offload_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert settings_for(tmp_path).media_offload == "none"
    assert settings_for(tmp_path).media_offload_prefix == "/_protected_media/"
    monkeypatch.setenv("PLYR_MEDIA_OFFLOAD", "x-accel-redirect")
    monkeypatch.setenv("PLYR_MEDIA_OFFLOAD_PREFIX", "/internal/media/")
    settings = Settings(_env_file=None)
    assert settings.media_offload == "x-accel-redirect"
    assert settings.media_offload_prefix == "/internal/media/"
    for bad in ("no-slash/", "/no-trailing", "/a b/", "/a//"):
        with pytest.raises(ValidationError):
            settings_for(tmp_path, media_offload_prefix=bad)
    with pytest.raises(ValidationError):
        settings_for(tmp_path, media_offload="sendfile")


# --- HTTP semantics, in-process ---------------------------------------------------------


async def test_whole_file(client: httpx.AsyncClient, objects: Objects) -> None:
    response = await client.get(f"/o/{objects.big_key}")
    assert response.status_code == 200
    assert response.content == objects.big
    headers = response.headers
    assert headers["content-length"] == str(BIG_SIZE)
    assert headers["content-type"] == "audio/mpeg"
    assert headers["accept-ranges"] == "bytes"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["etag"] == strong_etag(objects.big_key, BIG_SIZE)
    mtime = objects.storage.path_for(objects.big_key).stat().st_mtime
    assert headers["last-modified"] == formatdate(int(mtime), usegmt=True)
    assert "content-range" not in headers
    assert "content-disposition" not in headers


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=1048570-1048590", 1048570, 1048590),  # across a chunk boundary
        (f"bytes={BIG_SIZE - 10}-", BIG_SIZE - 10, BIG_SIZE - 1),
        ("bytes=-500", BIG_SIZE - 500, BIG_SIZE - 1),
        ("bytes=0-", 0, BIG_SIZE - 1),  # what <audio> sends first
        (f"bytes=-{BIG_SIZE * 2}", 0, BIG_SIZE - 1),
        (f"bytes=100-{BIG_SIZE * 2}", 100, BIG_SIZE - 1),
        ("bytes=5-5", 5, 5),
        ("bytes=0-9,5-99", 0, 99),  # coalesced into one range
    ],
)
async def test_single_ranges(
    client: httpx.AsyncClient, objects: Objects, header: str, start: int, end: int
) -> None:
    response = await client.get(f"/o/{objects.big_key}", headers={"Range": header})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{end}/{BIG_SIZE}"
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.content == objects.big[start : end + 1]
    assert response.headers["etag"] == strong_etag(objects.big_key, BIG_SIZE)


@pytest.mark.parametrize(
    "header", [f"bytes={BIG_SIZE}-", f"bytes={BIG_SIZE + 5}-{BIG_SIZE + 9}", "bytes=-0"]
)
async def test_unsatisfiable_range(
    client: httpx.AsyncClient, objects: Objects, header: str
) -> None:
    response = await client.get(f"/o/{objects.big_key}", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{BIG_SIZE}"
    assert response.content == b""
    assert "cache-control" not in response.headers


@pytest.mark.parametrize(
    "header", ["bytes=0-9,100-109", "bytes=9-0", "pages=1-2", "bytes=x-y", "bytes=0-9;"]
)
async def test_ranges_answered_with_the_whole_file(
    client: httpx.AsyncClient, objects: Objects, header: str
) -> None:
    response = await client.get(f"/o/{objects.small_key}", headers={"Range": header})
    assert response.status_code == 200
    assert response.content == objects.small
    assert "content-range" not in response.headers


async def test_empty_object(client: httpx.AsyncClient, objects: Objects) -> None:
    for headers in ({}, {"Range": "bytes=0-"}, {"Range": "bytes=-5"}):
        response = await client.get(f"/o/{objects.empty_key}", headers=headers)
        assert response.status_code == 200
        assert response.content == b""
        assert response.headers["content-length"] == "0"


async def test_if_none_match(client: httpx.AsyncClient, objects: Objects) -> None:
    url = f"/o/{objects.small_key}"
    etag = (await client.get(url)).headers["etag"]
    for value in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        response = await client.get(url, headers={"If-None-Match": value})
        assert response.status_code == 304, value
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["cache-control"].startswith("public")
        assert "content-length" not in response.headers
    response = await client.get(url, headers={"If-None-Match": '"other"'})
    assert response.status_code == 200
    assert response.content == objects.small
    head = await client.head(url, headers={"If-None-Match": etag})
    assert head.status_code == 304
    # A Range does not matter once the validator matches.
    ranged = await client.get(url, headers={"If-None-Match": etag, "Range": "bytes=0-1"})
    assert ranged.status_code == 304


async def test_if_modified_since(client: httpx.AsyncClient, objects: Objects) -> None:
    url = f"/o/{objects.small_key}"
    last_modified = (await client.get(url)).headers["last-modified"]
    mtime = parse_http_date(last_modified)
    assert mtime is not None
    assert (await client.get(url, headers={"If-Modified-Since": last_modified})).status_code == 304
    later = formatdate(mtime + 3600, usegmt=True)
    assert (await client.get(url, headers={"If-Modified-Since": later})).status_code == 304
    earlier = formatdate(mtime - 1, usegmt=True)
    response = await client.get(url, headers={"If-Modified-Since": earlier})
    assert response.status_code == 200
    assert response.content == objects.small
    garbage = await client.get(url, headers={"If-Modified-Since": "not a date"})
    assert garbage.status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    both = await client.get(
        url, headers={"If-None-Match": '"other"', "If-Modified-Since": last_modified}
    )
    assert both.status_code == 200


async def test_if_range(client: httpx.AsyncClient, objects: Objects) -> None:
    url = f"/o/{objects.big_key}"
    first = await client.get(url, headers={"Range": "bytes=0-0"})
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    matching = await client.get(url, headers={"Range": "bytes=10-19", "If-Range": etag})
    assert matching.status_code == 206
    assert matching.content == objects.big[10:20]
    by_date = await client.get(url, headers={"Range": "bytes=10-19", "If-Range": last_modified})
    assert by_date.status_code == 206
    for stale in ('"something-else"', f"W/{etag}", "Sun, 06 Nov 1994 08:49:37 GMT", "nonsense"):
        response = await client.get(url, headers={"Range": "bytes=10-19", "If-Range": stale})
        assert response.status_code == 200, stale
        assert response.content == objects.big
        assert "content-range" not in response.headers


async def test_if_match_and_if_unmodified_since(
    client: httpx.AsyncClient, objects: Objects
) -> None:
    url = f"/o/{objects.small_key}"
    first = await client.get(url)
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert (await client.get(url, headers={"If-Match": etag})).status_code == 200
    assert (await client.get(url, headers={"If-Match": '"nope"'})).status_code == 412
    assert (await client.get(url, headers={"If-Match": f"W/{etag}"})).status_code == 412
    ok = await client.get(url, headers={"If-Unmodified-Since": last_modified})
    assert ok.status_code == 200
    stale = await client.get(url, headers={"If-Unmodified-Since": "Sun, 06 Nov 1994 08:49:37 GMT"})
    assert stale.status_code == 412


async def test_head(client: httpx.AsyncClient, objects: Objects) -> None:
    url = f"/o/{objects.big_key}"
    response = await client.head(url)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(BIG_SIZE)
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == strong_etag(objects.big_key, BIG_SIZE)
    # Range is defined for GET only; a HEAD describes the whole representation.
    ranged = await client.head(url, headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 200
    assert ranged.headers["content-length"] == str(BIG_SIZE)


async def test_download_name(client: httpx.AsyncClient, objects: Objects) -> None:
    response = await client.get(f"/o/{objects.small_key}", params={"download": NON_ASCII_NAME})
    assert response.status_code == 200
    assert response.headers["content-disposition"] == content_disposition(NON_ASCII_NAME)
    assert (
        "filename*=UTF-8''Caf%C3%A9%20%22%C3%9Cmlaut%22" in response.headers["content-disposition"]
    )


async def test_mutable_objects_revalidate(client: httpx.AsyncClient, objects: Objects) -> None:
    response = await client.get(f"/o/{objects.small_key}", params={"mutable": "1"})
    assert response.headers["cache-control"] == "no-cache"
    stat = objects.storage.path_for(objects.small_key).stat()
    assert response.headers["etag"] == f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
    again = await client.get(
        f"/o/{objects.small_key}",
        params={"mutable": "1"},
        headers={"If-None-Match": response.headers["etag"]},
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    "key", ["audio/00/missing.mp3", "audio", "audio/..%2f..%2fetc/passwd", "Audio/X.mp3"]
)
async def test_missing_or_invalid_keys(
    client: httpx.AsyncClient, objects: Objects, key: str
) -> None:
    before = open_files(objects)
    response = await client.get(f"/o/{key}", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    head = await client.head(f"/o/{key}")
    assert head.status_code == 404
    page = await client.get(f"/o/{key}", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]
    assert open_files(objects) == before


async def test_random_ranges_are_byte_exact(client: httpx.AsyncClient, objects: Objects) -> None:
    rng = random.Random(20240611)
    for _ in range(50):
        start = rng.randrange(BIG_SIZE)
        end = min(BIG_SIZE - 1, start + rng.randrange(1, 3 * MIB))
        response = await client.get(
            f"/o/{objects.big_key}", headers={"Range": f"bytes={start}-{end}"}
        )
        assert response.status_code == 206
        assert response.content == objects.big[start : end + 1]


async def test_no_descriptor_is_leaked(client: httpx.AsyncClient, objects: Objects) -> None:
    before = open_files(objects)
    url = f"/o/{objects.big_key}"
    for headers in (
        {},
        {"Range": "bytes=0-10"},
        {"Range": f"bytes={BIG_SIZE}-"},
        {"If-None-Match": "*"},
        {"If-Match": '"x"'},
    ):
        await client.get(url, headers=headers)
    await client.head(url)
    assert open_files(objects) == before


# --- raw ASGI: extensions, disconnects, memory -------------------------------------------


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
    # Ranges are not what pathsend can express: they are read and sent as body chunks.
    ranged = await AsgiCall(
        app, f"/o/{objects.big_key}", headers={"Range": "bytes=0-"}, extensions=extensions
    ).run()
    assert ranged.start["status"] == 206
    assert all(m["type"] == "http.response.body" for m in ranged.messages[1:])
    assert ranged.digest.digest() == hashlib.sha256(objects.big).digest()


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
        monkeypatch.setattr(streaming, "_RWF_NOWAIT", None)
        response = await client.get(f"/o/{objects.big_key}", headers={"Range": "bytes=-70000"})
        assert response.content == objects.big[-70000:]


async def test_small_inline_limit_uses_threads_for_large_chunks(
    objects: Objects, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streaming, "INLINE_READ_MAX", 64 * 1024)
    async with asgi_client(streaming_app(objects.storage)) as client:
        response = await client.get(f"/o/{objects.big_key}", headers={"Range": "bytes=7-"})
        assert response.content == objects.big[7:]


# --- offload to the proxy ---------------------------------------------------------------


async def test_x_accel_redirect(objects: Objects, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, media_offload="x-accel-redirect")
    async with asgi_client(streaming_app(objects.storage, settings)) as client:
        url = f"/o/{objects.big_key}"
        response = await client.get(url, params={"download": NON_ASCII_NAME})
        assert response.status_code == 200
        assert response.content == b""
        headers = response.headers
        assert headers["x-accel-redirect"] == f"/_protected_media/{objects.big_key}"
        assert headers["content-type"] == "audio/mpeg"
        assert headers["cache-control"] == "public, max-age=31536000, immutable"
        assert headers["etag"] == strong_etag(objects.big_key, BIG_SIZE)
        assert headers["content-disposition"] == content_disposition(NON_ASCII_NAME)
        assert "x-sendfile" not in headers
        # The proxy answers ranges and validators; plyr hands over whatever was asked.
        for extra in ({"Range": "bytes=0-9"}, {"If-None-Match": "*"}):
            again = await client.get(url, headers=extra)
            assert again.status_code == 200
            assert again.headers["x-accel-redirect"] == headers["x-accel-redirect"]
        assert (await client.head(url)).headers["x-accel-redirect"] == headers["x-accel-redirect"]
        missing = await client.get("/o/audio/00/missing.mp3")
        assert missing.status_code == 404
        assert "x-accel-redirect" not in missing.headers

    custom = settings_for(tmp_path, media_offload="x-accel-redirect", media_offload_prefix="/m/")
    async with asgi_client(streaming_app(objects.storage, custom)) as client:
        response = await client.get(f"/o/{objects.small_key}")
        assert response.headers["x-accel-redirect"] == f"/m/{objects.small_key}"


async def test_x_sendfile(objects: Objects, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, media_offload="x-sendfile")
    async with asgi_client(streaming_app(objects.storage, settings)) as client:
        response = await client.get(f"/o/{objects.small_key}")
        assert response.status_code == 200
        assert response.content == b""
        sendfile = Path(response.headers["x-sendfile"])
        assert sendfile.is_absolute()
        assert sendfile == objects.storage.path_for(objects.small_key).resolve()
        assert await anyio.Path(sendfile).read_bytes() == objects.small
        assert response.headers["content-type"] == "audio/mpeg"
        assert "x-accel-redirect" not in response.headers


# --- a real server ----------------------------------------------------------------------


@asynccontextmanager
async def uvicorn_serving(app: FastAPI) -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


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
    real_read = streaming.FileRangeResponse._read

    async def counting_read(
        self: streaming.FileRangeResponse, fd: int, offset: int, size: int
    ) -> bytes:
        nonlocal read
        read += size
        data: bytes = await real_read(self, fd, offset, size)
        return data

    monkeypatch.setattr(streaming.FileRangeResponse, "_read", counting_read)
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
    path = Path(__file__).resolve().parent.parent / "bench" / "stream.py"
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
        stored = await server.runtime.storage.put(key_for(data), _chunks(data))
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


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


# --- S3: redirects ----------------------------------------------------------------------


@pytest.fixture
async def s3_storage(s3_server: S3Server, tmp_path: Path) -> AsyncIterator[S3Storage]:
    settings = s3_settings(tmp_path, s3_server, s3_presign_seconds=1200)
    storage = S3Storage.from_settings(settings)
    await storage.check()
    try:
        yield storage
    finally:
        await storage.close()
        async with admin_client(s3_server) as admin:
            await remove_bucket(admin, settings.s3_bucket)


@pytest.mark.s3
async def test_s3_redirects(s3_storage: S3Storage) -> None:
    data = random.Random(11).randbytes(300_000)
    key = key_for(data)
    await s3_storage.put(key, _chunks(data), "audio/mpeg")
    async with asgi_client(streaming_app(s3_storage)) as client:
        response = await client.get(f"/o/{key}")
        assert response.status_code == 307
        cache = response.headers["cache-control"]
        assert cache.startswith("private, max-age=")
        assert 0 < int(cache.rsplit("=", 1)[1]) < 1200
        target = response.headers["location"]
        assert target.startswith(s3_storage.endpoint_url or "")
        head = await client.head(f"/o/{key}")
        assert head.status_code == 200
        assert head.headers["content-length"] == str(len(data))
        assert head.headers["content-type"] == "audio/mpeg"
        assert (await client.head("/o/audio/00/missing.mp3")).status_code == 404
    async with httpx.AsyncClient() as plain:
        ranged = await plain.get(target, headers={"Range": "bytes=1000-1999"})
        assert ranged.status_code == 206
        assert ranged.content == data[1000:2000]
        whole = await plain.get(target)
        assert whole.content == data


@pytest.mark.s3
async def test_s3_public_base_url_redirect(s3_server: S3Server, tmp_path: Path) -> None:
    settings = s3_settings(tmp_path, s3_server, s3_public_base_url="https://cdn.example.com/m")
    storage = S3Storage.from_settings(settings)
    try:
        async with asgi_client(streaming_app(storage)) as client:
            response = await client.get("/o/audio/ab/track.mp3")
        assert response.status_code == 307
        assert response.headers["location"] == "https://cdn.example.com/m/audio/ab/track.mp3"
        assert response.headers["cache-control"] == "public, max-age=86400"
    finally:
        await storage.close()
