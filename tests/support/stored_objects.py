"""Stored objects to serve and a small app around `serve_object`, for the streaming tests."""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from plyr.config import Settings
from plyr.serving.serve import serve_object
from plyr.storage.base import Storage, content_key
from plyr.storage.local import LocalStorage
from plyr.web.shared.errors import install_error_handlers
from plyr.web.shared.templating import STATIC_DIR
from tests.conftest import make_settings

MIB = 1024 * 1024
BIG_SIZE = 3 * MIB + 123  # several chunks, not a multiple of one
SMALL_SIZE = 1000
NON_ASCII_NAME = 'Café "Ümlaut" \u2013 東京/night.mp3'


def key_for(data: bytes, extension: str = "mp3") -> str:
    """The content-addressed key plyr would store these bytes under."""
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


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    """Settings for these tests; the database is never opened."""
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
    """An httpx client that talks to the app in-process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://plyr.test") as client:
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
