"""Storage test helpers: S3 settings and an admin client for the test server, byte streams."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from aiobotocore.session import AioSession
from botocore.exceptions import ClientError

from plyr.config import Settings
from plyr.storage.base import Storage
from tests.conftest import make_settings
from tests.support.seaweedfs import S3Server

if TYPE_CHECKING:
    from types_aiobotocore_s3.client import S3Client

MIB = 1024 * 1024
PART_SIZE = 8 * MIB

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
