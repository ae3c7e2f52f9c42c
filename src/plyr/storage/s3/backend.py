"""`S3Storage`: the storage interface on an S3-compatible bucket.

Objects are read in ranges, stat'ed, deleted and served by (presigned or public) URL here;
the client, the streaming upload and the error messages each have a module of their own.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from botocore.exceptions import ClientError

from plyr.storage.base import (
    CHUNK_SIZE,
    ObjectInfo,
    ObjectNotFound,
    StorageUnavailable,
    validate_key,
)
from plyr.storage.s3.client import CONNECT_TIMEOUT_SECONDS, MAX_ATTEMPTS, LazyS3Client
from plyr.storage.s3.errors import ErrorTranslator, display_endpoint
from plyr.storage.s3.upload import upload_stream

if TYPE_CHECKING:
    from types_aiobotocore_s3.client import S3Client
    from types_aiobotocore_s3.literals import BucketLocationConstraintType

    from plyr.config import Settings

_PROBE_BYTES = b"plyr storage check\n"

_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


def _check_range_arguments(start: int, end: int | None) -> None:
    if start < 0:
        raise ValueError(f"range start must not be negative, got {start}")
    if end is not None and end < start:
        raise ValueError(f"range end {end} is before its start {start}")


class S3Storage:
    name = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str = "auto",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        public_base_url: str | None = None,
        presign_seconds: int = 3600,
        part_size: int = 8 * 1024 * 1024,
        addressing_style: str = "path",
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        if part_size < 5 * 1024 * 1024:
            raise ValueError("S3 multipart parts must be at least 5 MiB")
        self.bucket = bucket
        self.endpoint_url = endpoint_url.rstrip("/") if endpoint_url else None
        # "auto" is what R2 expects; without an endpoint it would name no AWS region.
        self.region = "us-east-1" if region == "auto" and not endpoint_url else region
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.presign_seconds = presign_seconds
        self.part_size = part_size
        self.connect_timeout = connect_timeout
        self._shown_endpoint = display_endpoint(self.endpoint_url, self.region)
        self._errors = ErrorTranslator(self._shown_endpoint, bucket, connect_timeout)
        self._client = LazyS3Client(
            endpoint_url=self.endpoint_url,
            region=self.region,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            addressing_style=addressing_style,
            connect_timeout=connect_timeout,
            max_attempts=max_attempts,
            shown_endpoint=self._shown_endpoint,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        key_id = settings.s3_access_key_id
        secret = settings.s3_secret_access_key
        return cls(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=key_id.get_secret_value() if key_id else None,
            secret_access_key=secret.get_secret_value() if secret else None,
            public_base_url=settings.s3_public_base_url,
            presign_seconds=settings.s3_presign_seconds,
            part_size=settings.s3_part_size,
            addressing_style=settings.s3_addressing_style,
        )

    def __repr__(self) -> str:
        return f"S3Storage(endpoint={self._shown_endpoint!r}, bucket={self.bucket!r})"

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], content_type: str | None = None
    ) -> ObjectInfo:
        validate_key(key)
        client = await self._client.get()
        size, etag = await upload_stream(
            client, self._errors, self.bucket, key, chunks, content_type, part_size=self.part_size
        )
        info = await self.stat(key)
        if info is not None:
            return info
        return ObjectInfo(key, size, content_type, etag, datetime.now(UTC))

    async def get_range(
        self, key: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        validate_key(key)
        _check_range_arguments(start, end)
        client = await self._client.get()
        extra: dict[str, Any] = {}
        if start > 0 or end is not None:
            extra["Range"] = f"bytes={start}-{'' if end is None else end}"
        with self._errors.translate("read", key):
            try:
                response = await client.get_object(Bucket=self.bucket, Key=key, **extra)
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                if code in _NOT_FOUND_CODES:
                    raise ObjectNotFound(key) from None
                if code == "InvalidRange":
                    raise ValueError(f"range start {start} is beyond the end of {key}") from None
                raise
            async with response["Body"] as body:
                while chunk := await body.read(CHUNK_SIZE):
                    yield chunk

    async def stat(self, key: str) -> ObjectInfo | None:
        validate_key(key)
        client = await self._client.get()
        with self._errors.translate("look up", key):
            try:
                head = await client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if str(exc.response.get("Error", {}).get("Code", "")) in _NOT_FOUND_CODES:
                    return None
                raise
        return ObjectInfo(
            key=key,
            size=head["ContentLength"],
            content_type=head.get("ContentType"),
            etag=head.get("ETag"),
            last_modified=head.get("LastModified"),
        )

    async def delete(self, key: str) -> bool:
        # S3 deletes succeed whether or not the key existed, so ask first.
        if await self.stat(key) is None:
            return False
        client = await self._client.get()
        with self._errors.translate("delete", key):
            await client.delete_object(Bucket=self.bucket, Key=key)
        return True

    async def url(self, key: str, *, expires_seconds: int | None = None) -> str:
        validate_key(key)
        if self.public_base_url:
            return f"{self.public_base_url}/{quote(key)}"
        client = await self._client.get()
        with self._errors.translate("sign a URL for", key):
            return await client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": key},
                ExpiresIn=expires_seconds or self.presign_seconds,
            )

    async def check(self) -> None:
        """Reach the endpoint, create the bucket if it is missing, write, read, delete."""
        client = await self._client.get()
        with self._errors.translate("check"):
            await self._ensure_bucket(client)
        probe = f"plyr-check/{secrets.token_hex(8)}"

        async def probe_chunks() -> AsyncIterator[bytes]:
            yield _PROBE_BYTES

        await self.put(probe, probe_chunks(), "text/plain")
        try:
            read = b"".join([chunk async for chunk in self.get_range(probe)])
        finally:
            await self.delete(probe)
        if read != _PROBE_BYTES:
            raise StorageUnavailable(
                f"S3 at {self._shown_endpoint} returned different bytes than were written "
                f"to bucket {self.bucket!r}; check the endpoint is a working S3 service"
            )

    async def _ensure_bucket(self, client: S3Client) -> None:
        try:
            await client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 403:
                # HEAD answers carry no error code; a listing says whether the key or the
                # secret is wrong, or the key just may not use this bucket.
                await client.list_objects_v2(Bucket=self.bucket, MaxKeys=1)
                return
            if status != 404:
                raise
        try:
            if self.region in ("us-east-1", "auto"):
                await client.create_bucket(Bucket=self.bucket)
            else:
                await client.create_bucket(
                    Bucket=self.bucket,
                    CreateBucketConfiguration={
                        "LocationConstraint": cast("BucketLocationConstraintType", self.region)
                    },
                )
        except ClientError as exc:
            # Several roles starting at once (web, worker, ingest) race to create it: the
            # loser is told the bucket is already theirs, which is what it wanted.
            if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                raise

    async def close(self) -> None:
        await self._client.close()
