"""Serving without sending the bytes: X-Accel-Redirect, X-Sendfile and redirects to S3."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest
from pydantic import ValidationError

from plyr.config import Settings
from plyr.serving.validators import content_disposition, strong_etag
from plyr.storage.s3 import S3Storage
from tests.support.seaweedfs import S3Server
from tests.support.storage import admin_client, chunks_of, remove_bucket, s3_settings
from tests.support.stored_objects import (
    BIG_SIZE,
    NON_ASCII_NAME,
    Objects,
    asgi_client,
    key_for,
    settings_for,
    streaming_app,
)


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
    await s3_storage.put(key, chunks_of(data), "audio/mpeg")
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
