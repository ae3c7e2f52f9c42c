"""S3 only: `check` makes the bucket, public URLs, one clear line for a bad endpoint or key."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from plyr.storage.base import StorageUnavailable
from plyr.storage.factory import create_storage
from plyr.storage.s3 import S3Storage
from tests.conftest import make_settings
from tests.support.ports import free_port
from tests.support.seaweedfs import S3Server
from tests.support.storage import (
    MIB,
    admin_client,
    chunks_of,
    random_stream,
    read,
    remove_bucket,
    s3_settings,
)


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
async def test_roles_starting_at_once_all_pass_the_check(
    s3_server: S3Server, tmp_path: Path
) -> None:
    """web, worker and ingest start together and each makes sure the bucket exists: the ones
    that lose the race to create it are told it is already theirs, which is not a failure."""
    settings = s3_settings(tmp_path, s3_server)
    stores = [create_storage(settings) for _ in range(6)]
    async with admin_client(s3_server) as admin:
        try:
            await asyncio.gather(*(store.check() for store in stores))
            await admin.head_bucket(Bucket=settings.s3_bucket)
        finally:
            for store in stores:
                await store.close()
            await remove_bucket(admin, settings.s3_bucket)


class _LostTheRace:
    """A client whose bucket another process created between its HEAD and its CREATE."""

    async def head_bucket(self, **_: object) -> None:
        raise ClientError({"ResponseMetadata": {"HTTPStatusCode": 404}}, "HeadBucket")

    async def create_bucket(self, **_: object) -> None:
        error = {"Code": "BucketAlreadyOwnedByYou", "Message": "you already own it"}
        raise ClientError({"Error": error}, "CreateBucket")


async def test_losing_the_race_to_create_the_bucket_is_not_a_failure(tmp_path: Path) -> None:
    store = S3Storage.from_settings(
        make_settings(tmp_path, "sqlite+aiosqlite://", storage_backend="s3")
    )
    try:
        await store._ensure_bucket(_LostTheRace())
    finally:
        await store.close()


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
