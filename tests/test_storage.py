"""The storage contract, run on local files and on S3 (a SeaweedFS started for the session)."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest
from aiobotocore.session import AioSession
from botocore.exceptions import ClientError

from plyr.config import Settings
from plyr.storage.base import (
    ObjectNotFound,
    Storage,
    StorageUnavailable,
    content_key,
    put_content_addressed,
)
from plyr.storage.factory import create_storage
from plyr.storage.local import TMP_DIR, LocalStorage
from plyr.storage.s3 import S3Storage
from tests.conftest import free_port, make_settings
from tests.support.seaweedfs import S3Server

if TYPE_CHECKING:
    from types_aiobotocore_s3.client import S3Client

MIB = 1024 * 1024
PART_SIZE = 8 * MIB


# --- fixtures ---------------------------------------------------------------------------


_ADMIN_SESSION = AioSession()  # shared, so each client is cheap to make


@asynccontextmanager
async def admin_client(server: S3Server) -> AsyncIterator[S3Client]:
    """A plain client on the test server, to look behind the storage's back."""
    async with _ADMIN_SESSION.create_client(
        "s3",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
    ) as client:
        yield client


def s3_settings(tmp_path: Path, server: S3Server, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "storage_backend": "s3",
        "s3_endpoint_url": server.endpoint,
        "s3_bucket": f"plyr-test-{secrets.token_hex(6)}",
        "s3_access_key_id": server.access_key,
        "s3_secret_access_key": server.secret_key,
        "s3_part_size": PART_SIZE,
    }
    values.update(overrides)
    return make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", **values)


async def remove_bucket(client: S3Client, bucket: str) -> None:
    """Empty and drop a test bucket (best effort: a shared server should not fill up)."""
    try:
        uploads = await client.list_multipart_uploads(Bucket=bucket)
        for upload in uploads.get("Uploads", []):
            await client.abort_multipart_upload(
                Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
        listing = await client.list_objects_v2(Bucket=bucket)
        for item in listing.get("Contents", []):
            await client.delete_object(Bucket=bucket, Key=item["Key"])
        await client.delete_bucket(Bucket=bucket)
    except ClientError:
        pass


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


async def chunks_of(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def read(store: Storage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in store.get_range(key, start, end)])


async def random_stream(total: int, seen: Callable[[bytes], None]) -> AsyncIterator[bytes]:
    """`total` random bytes in 1 MiB chunks, made as they are sent (never all in memory)."""
    sent = 0
    while sent < total:
        block = os.urandom(min(MIB, total - sent))
        seen(block)
        sent += len(block)
        yield block


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


# --- S3 only -----------------------------------------------------------------------------


@pytest.mark.s3
async def test_check_creates_the_bucket(s3_server: S3Server, tmp_path: Path) -> None:
    settings = s3_settings(tmp_path, s3_server)
    store = create_storage(settings)
    async with admin_client(s3_server) as admin:
        try:
            await store.check()
            await admin.head_bucket(Bucket=settings.s3_bucket)
            await store.check()  # and is happy with one that exists
            listing = await admin.list_objects_v2(Bucket=settings.s3_bucket)
            assert listing.get("KeyCount", 0) == 0  # the probe object is gone
        finally:
            await store.close()
            await remove_bucket(admin, settings.s3_bucket)


@pytest.mark.s3
async def test_public_base_url_is_used_verbatim(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        "sqlite+aiosqlite:///unused.db",
        storage_backend="s3",
        s3_endpoint_url="http://127.0.0.1:1",
        s3_public_base_url="https://cdn.example.com/media/",
    )
    store = create_storage(settings)
    assert await store.url("audio/ab/x.mp3") == "https://cdn.example.com/media/audio/ab/x.mp3"
    await store.close()


@pytest.mark.s3
async def test_unreachable_endpoint_is_unavailable(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    endpoint = f"http://127.0.0.1:{port}"
    settings = make_settings(
        tmp_path,
        "sqlite+aiosqlite:///unused.db",
        storage_backend="s3",
        s3_endpoint_url=endpoint,
        s3_access_key_id="key-id",
        s3_secret_access_key="not-shown-anywhere",
    )
    store = create_storage(settings)
    try:
        with pytest.raises(StorageUnavailable) as checked:
            await store.check()
        with pytest.raises(StorageUnavailable) as put:
            await store.put("audio/00/x", chunks_of(b"x"))
    finally:
        await store.close()
    for message in (str(checked.value), str(put.value)):
        assert endpoint in message
        assert "connection refused" in message
        assert "PLYR_S3_ENDPOINT_URL" in message
        assert "not-shown-anywhere" not in message
        assert "\n" not in message


@pytest.mark.s3
async def test_every_call_reports_an_unreachable_endpoint(tmp_path: Path) -> None:
    # One attempt per call: the retries were exercised above and only cost time here.
    store = S3Storage(
        bucket="plyr",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        access_key_id="key-id",
        secret_access_key="secret",
        max_attempts=1,
    )
    try:
        with pytest.raises(StorageUnavailable, match="connection refused"):
            await store.stat("audio/00/x")
        with pytest.raises(StorageUnavailable, match="connection refused"):
            await read(store, "audio/00/x")
        with pytest.raises(StorageUnavailable, match="connection refused"):
            await store.delete("audio/00/x")
        big = hashlib.sha256()
        with pytest.raises(StorageUnavailable, match="connection refused"):
            await store.put("audio/00/x", random_stream(9 * MIB, big.update))
    finally:
        await store.close()


@pytest.mark.s3
@pytest.mark.parametrize(
    ("wrong", "setting"),
    [("secret", "PLYR_S3_SECRET_ACCESS_KEY"), ("key", "PLYR_S3_ACCESS_KEY_ID")],
)
async def test_wrong_credentials_are_unavailable(
    s3_server: S3Server, tmp_path: Path, wrong: str, setting: str
) -> None:
    bad_secret = "wrong-secret-value-123"
    overrides: dict[str, object] = (
        {"s3_secret_access_key": bad_secret}
        if wrong == "secret"
        else {"s3_access_key_id": "nobody-has-this-key"}
    )
    store = create_storage(s3_settings(tmp_path, s3_server, **overrides))
    try:
        with pytest.raises(StorageUnavailable) as checked:
            await store.check()
        with pytest.raises(StorageUnavailable):
            await store.put("audio/00/x", chunks_of(b"x"))
    finally:
        await store.close()
    message = str(checked.value)
    assert setting in message
    assert s3_server.endpoint in message
    assert bad_secret not in message
    assert s3_server.secret_key not in message
