"""The storage contract, run on local files and on S3 (a SeaweedFS started for the session)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest

from plyr.storage.base import ObjectNotFound, Storage, content_key, put_content_addressed
from plyr.storage.factory import create_storage
from plyr.storage.local import TMP_DIR, LocalStorage
from plyr.storage.s3 import S3Storage
from tests.conftest import make_settings
from tests.support.seaweedfs import S3Server
from tests.support.storage import (
    MIB,
    PART_SIZE,
    admin_client,
    chunks_of,
    random_stream,
    read,
    remove_bucket,
    s3_settings,
)

# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param == "local":
        settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
        store = create_storage(settings)
        await store.check()
        yield store
        await store.close()
        return
    server: S3Server = request.getfixturevalue("s3_server")
    settings = s3_settings(tmp_path, server)
    store = create_storage(settings)
    assert isinstance(store, S3Storage)
    await store.check()  # creates the fresh bucket
    try:
        yield store
    finally:
        await store.close()
        async with admin_client(server) as admin:
            await remove_bucket(admin, settings.s3_bucket)


# --- helpers ----------------------------------------------------------------------------


async def pending_uploads(store: Storage, server: S3Server) -> list[str]:
    assert isinstance(store, S3Storage)
    async with admin_client(server) as admin:
        listing = await admin.list_multipart_uploads(Bucket=store.bucket)
    return [upload["Key"] for upload in listing.get("Uploads", [])]


def leftover_temp_files(store: Storage) -> list[Path]:
    assert isinstance(store, LocalStorage)
    tmp = store.root / TMP_DIR
    return list(tmp.iterdir()) if tmp.exists() else []


async def assert_nothing_left(store: Storage, request: pytest.FixtureRequest) -> None:
    """No multipart upload pending (S3) or temp file left (local) after a failed put."""
    if store.name == "s3":
        server: S3Server = request.getfixturevalue("s3_server")
        assert await pending_uploads(store, server) == []
    else:
        assert leftover_temp_files(store) == []


# --- contract: both backends ------------------------------------------------------------


async def test_put_then_stat(storage: Storage) -> None:
    info = await storage.put("audio/ab/track.mp3", chunks_of(b"hello ", b"world"), "audio/mpeg")
    assert info.key == "audio/ab/track.mp3"
    assert info.size == 11
    assert info.etag
    stat = await storage.stat("audio/ab/track.mp3")
    assert stat is not None
    assert stat.size == 11
    assert stat.etag == info.etag
    assert stat.last_modified is not None
    if storage.name == "s3":
        assert stat.content_type == "audio/mpeg"


async def test_ranges(storage: Storage) -> None:
    data = os.urandom(3000)
    await storage.put("audio/00/ranges", chunks_of(data[:1000], data[1000:]))
    assert await read(storage, "audio/00/ranges") == data
    assert await read(storage, "audio/00/ranges", 0, 0) == data[:1]
    assert await read(storage, "audio/00/ranges", 1000, 1999) == data[1000:2000]
    assert await read(storage, "audio/00/ranges", 2999, 2999) == data[-1:]
    assert await read(storage, "audio/00/ranges", 2500) == data[2500:]
    # Like HTTP, an end past the object is clamped to it.
    assert await read(storage, "audio/00/ranges", 2990, 10_000) == data[2990:]


async def test_invalid_ranges_are_rejected(storage: Storage) -> None:
    await storage.put("audio/00/short", chunks_of(b"0123456789"))
    for start, end in [(10, None), (50, 60), (-1, None), (5, 4)]:
        with pytest.raises(ValueError, match="range"):
            await read(storage, "audio/00/short", start, end)


async def test_empty_object(storage: Storage) -> None:
    info = await storage.put("images/00/empty", chunks_of())
    assert info.size == 0
    assert await read(storage, "images/00/empty") == b""
    with pytest.raises(ValueError, match="range"):
        await read(storage, "images/00/empty", 0, 0)


async def test_put_replaces_the_whole_object(storage: Storage) -> None:
    await storage.put("audio/00/replace", chunks_of(b"a much longer first version"))
    await storage.put("audio/00/replace", chunks_of(b"second"))
    assert await read(storage, "audio/00/replace") == b"second"
    stat = await storage.stat("audio/00/replace")
    assert stat is not None
    assert stat.size == 6


async def test_delete_reports_whether_it_existed(storage: Storage) -> None:
    await storage.put("audio/00/gone", chunks_of(b"x"))
    assert await storage.delete("audio/00/gone") is True
    assert await storage.delete("audio/00/gone") is False
    assert await storage.stat("audio/00/gone") is None


async def test_missing_objects(storage: Storage) -> None:
    assert await storage.stat("audio/00/missing") is None
    with pytest.raises(ObjectNotFound):
        await read(storage, "audio/00/missing")
    # A fan-out folder is not an object either.
    await storage.put("audio/ff/inside", chunks_of(b"x"))
    assert await storage.stat("audio/ff") is None
    with pytest.raises(ObjectNotFound):
        await read(storage, "audio/ff")


@pytest.mark.parametrize("key", ["../escape", "/absolute", "Upper/case", "a//b", "", "a/../b"])
async def test_invalid_keys_are_rejected(storage: Storage, key: str) -> None:
    with pytest.raises(ValueError, match="invalid storage key"):
        await storage.put(key, chunks_of(b"x"))
    with pytest.raises(ValueError, match="invalid storage key"):
        await storage.stat(key)
    with pytest.raises(ValueError, match="invalid storage key"):
        await read(storage, key)
    with pytest.raises(ValueError, match="invalid storage key"):
        await storage.url(key)


async def test_content_addressed_put_stores_once(storage: Storage, tmp_path: Path) -> None:
    data = os.urandom(5000)
    source = tmp_path / "upload.flac"
    source.write_bytes(data)
    first, new = await put_content_addressed(storage, "audio", source, "FLAC", "audio/flac")
    assert new is True
    assert first.key == content_key("audio", hashlib.sha256(data).hexdigest(), "flac")
    again, new = await put_content_addressed(storage, "audio", source, "flac", "audio/flac")
    assert new is False
    assert again.key == first.key
    assert await read(storage, first.key) == data


async def test_url(storage: Storage) -> None:
    data = os.urandom(2048)
    await storage.put("audio/00/url", chunks_of(data))
    url = await storage.url("audio/00/url")
    if storage.name == "local":
        assert url == "http://127.0.0.1:8000/media/audio/00/url"
        return
    async with httpx.AsyncClient(trust_env=False) as client:
        whole = await client.get(url)
        partial = await client.get(url, headers={"Range": "bytes=100-199"})
    assert whole.status_code == 200
    assert whole.content == data
    assert partial.status_code == 206
    assert partial.content == data[100:200]


async def test_large_object_round_trips(storage: Storage) -> None:
    written = hashlib.sha256()
    info = await storage.put(
        "audio/00/large", random_stream(20 * MIB, written.update), "audio/flac"
    )
    assert info.size == 20 * MIB
    if storage.name == "s3":
        assert info.etag is not None
        assert info.etag.strip('"').endswith("-3")  # a three-part multipart upload
    back = hashlib.sha256()
    async for chunk in storage.get_range("audio/00/large"):
        back.update(chunk)
    assert back.hexdigest() == written.hexdigest()
    # A range across the first part boundary.
    assert len(await read(storage, "audio/00/large", PART_SIZE - 10, PART_SIZE + 9)) == 20


@pytest.mark.parametrize(
    ("size", "parts"), [(PART_SIZE, None), (PART_SIZE + 1, 2)], ids=["one-part", "two-parts"]
)
async def test_part_boundaries(storage: Storage, size: int, parts: int | None) -> None:
    written = hashlib.sha256()
    info = await storage.put("audio/00/boundary", random_stream(size, written.update))
    assert info.size == size
    if storage.name == "s3":
        assert info.etag is not None
        suffix = info.etag.strip('"').rpartition("-")[2] if "-" in info.etag else None
        assert suffix == (str(parts) if parts else None)
    back = hashlib.sha256()
    async for chunk in storage.get_range("audio/00/boundary"):
        back.update(chunk)
    assert back.hexdigest() == written.hexdigest()


@pytest.mark.parametrize("size", [MIB, 10 * MIB], ids=["one-part", "multipart"])
async def test_failing_stream_leaves_nothing(
    storage: Storage, size: int, request: pytest.FixtureRequest
) -> None:
    await storage.put("audio/00/kept", chunks_of(b"the old version"))

    async def breaks_midway() -> AsyncIterator[bytes]:
        sent = 0
        while sent < size:
            yield bytes(MIB)
            sent += MIB
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError, match="client went away"):
        await storage.put("audio/00/broken", breaks_midway())
    with pytest.raises(RuntimeError, match="client went away"):
        await storage.put("audio/00/kept", breaks_midway())
    assert await storage.stat("audio/00/broken") is None
    assert await read(storage, "audio/00/kept") == b"the old version"
    await assert_nothing_left(storage, request)


async def test_cancelled_put_leaves_nothing(
    storage: Storage, request: pytest.FixtureRequest
) -> None:
    with anyio.CancelScope() as scope:

        async def cancelled_midway() -> AsyncIterator[bytes]:
            for _ in range(10):  # past the first part, so a multipart upload is under way
                yield bytes(MIB)
            scope.cancel()
            await anyio.sleep(5)
            yield b"never"

        await storage.put("audio/00/cancelled", cancelled_midway())
    assert scope.cancelled_caught
    assert await storage.stat("audio/00/cancelled") is None
    await assert_nothing_left(storage, request)
