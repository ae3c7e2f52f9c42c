"""S3-compatible storage (AWS S3, Cloudflare R2, MinIO, SeaweedFS, …) through aiobotocore.

Uploads stream: up to one part is buffered, small objects go up in one request, larger ones
as a multipart upload that is aborted if anything fails, so a broken stream leaves neither an
object nor a dangling upload behind. Every backend failure surfaces as a `StorageError`;
the ones that mean "S3 cannot be used as configured" as `StorageUnavailable`, with one line
saying what is wrong and which setting to look at.
"""

from __future__ import annotations

import contextlib
import errno
import io
import secrets
import socket
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, urlsplit, urlunsplit

import anyio
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    HTTPClientError,
    IncompleteReadError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from plyr.storage.base import (
    CHUNK_SIZE,
    ObjectInfo,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
    validate_key,
)

if TYPE_CHECKING:
    from types_aiobotocore_s3.client import S3Client
    from types_aiobotocore_s3.literals import BucketLocationConstraintType
    from types_aiobotocore_s3.type_defs import CompletedPartTypeDef

    from plyr.config import Settings

CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 60.0
# Total tries per request, the first one included: enough to ride out a blip, few enough
# that an endpoint which is down is reported within a second or two.
MAX_ATTEMPTS = 3
ABORT_TIMEOUT_SECONDS = 15.0
_PROBE_BYTES = b"plyr storage check\n"

_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_CREDENTIAL_HINT = "check PLYR_S3_ACCESS_KEY_ID and PLYR_S3_SECRET_ACCESS_KEY"


_session: AioSession | None = None


def _shared_session() -> AioSession:
    """One session per process: it caches the parsed service model, making clients cheap."""
    global _session
    if _session is None:
        _session = AioSession()
    return _session


def _display_endpoint(endpoint_url: str | None, region: str) -> str:
    """The endpoint as shown in messages: never with a password, even if one was pasted in."""
    if not endpoint_url:
        return f"AWS S3 (region {region})"
    parts = urlsplit(endpoint_url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", "")) or endpoint_url


def _connection_reason(exc: BaseException, connect_timeout: float) -> str:
    """Say in a few words why a connection failed, from the innermost error that knows."""
    if isinstance(exc, ConnectTimeoutError):
        return f"no answer within {connect_timeout:g} s"
    if isinstance(exc, ReadTimeoutError):
        return "the endpoint stopped answering (read timeout)"
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return "host name not found"
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, TimeoutError):
            return f"no answer within {connect_timeout:g} s"
        if isinstance(current, OSError) and current.errno in (
            errno.ENETUNREACH,
            errno.EHOSTUNREACH,
        ):
            return "network unreachable"
        wrapped = getattr(current, "kwargs", {}).get("error")
        current = (
            wrapped if isinstance(wrapped, BaseException) else current.__cause__
        ) or current.__context__
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


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
        self._access_key_id = access_key_id
        self._secret_access_key = secret_access_key
        self._config = AioConfig(
            signature_version="s3v4",
            s3={"addressing_style": addressing_style},
            connect_timeout=connect_timeout,
            read_timeout=READ_TIMEOUT_SECONDS,
            retries={"total_max_attempts": max_attempts, "mode": "standard"},
            # Many S3-compatible servers reject the newer default CRC checksum headers.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._shown_endpoint = _display_endpoint(self.endpoint_url, self.region)
        self._stack: AsyncExitStack | None = None
        self._s3: S3Client | None = None
        self._lock = anyio.Lock()

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

    async def _client(self) -> S3Client:
        """The client, made on first use so constructing storage never touches the network."""
        if self._s3 is not None:
            return self._s3
        async with self._lock:
            if self._s3 is None:
                stack = AsyncExitStack()
                try:
                    self._s3 = await stack.enter_async_context(
                        _shared_session().create_client(
                            "s3",
                            endpoint_url=self.endpoint_url,
                            region_name=self.region,
                            aws_access_key_id=self._access_key_id,
                            aws_secret_access_key=self._secret_access_key,
                            config=self._config,
                        )
                    )
                except (ValueError, BotoCoreError) as exc:
                    await stack.aclose()
                    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                    raise StorageUnavailable(
                        f"cannot set up the S3 client for {self._shown_endpoint} ({reason}); "
                        "check PLYR_S3_ENDPOINT_URL (like https://s3.example.com) "
                        "and PLYR_S3_REGION"
                    ) from exc
                self._stack = stack
            return self._s3

    @contextlib.contextmanager
    def _errors(self, action: str, key: str | None = None) -> Iterator[None]:
        """Translate botocore failures into storage errors with one clear line."""
        try:
            yield
        except ClientError as exc:
            raise self._client_error(exc, action, key) from exc
        except (BotoConnectionError, HTTPClientError, IncompleteReadError) as exc:
            reason = _connection_reason(exc, self.connect_timeout)
            raise StorageUnavailable(
                f"cannot reach S3 endpoint {self._shown_endpoint}: {reason}; "
                "check PLYR_S3_ENDPOINT_URL"
            ) from exc
        except (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError) as exc:
            raise StorageUnavailable(
                f"no usable S3 credentials for {self._shown_endpoint} ({type(exc).__name__}); "
                f"{_CREDENTIAL_HINT}"
            ) from exc

    def _client_error(self, exc: ClientError, action: str, key: str | None) -> StorageError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        where = f"S3 at {self._shown_endpoint}"
        if code == "InvalidAccessKeyId":
            return StorageUnavailable(
                f"{where} does not know the access key; check PLYR_S3_ACCESS_KEY_ID"
            )
        if code == "SignatureDoesNotMatch":
            return StorageUnavailable(
                f"{where} rejected the request signature (wrong secret key); "
                "check PLYR_S3_SECRET_ACCESS_KEY"
            )
        if code in {"ExpiredToken", "InvalidToken", "TokenRefreshRequired"}:
            return StorageUnavailable(
                f"{where} rejected the credentials ({code}); {_CREDENTIAL_HINT}"
            )
        if code == "RequestTimeTooSkewed":
            return StorageUnavailable(f"{where} says this machine's clock is wrong; fix the time")
        if code == "NoSuchBucket":
            return StorageUnavailable(
                f"bucket {self.bucket!r} does not exist at {self._shown_endpoint}; "
                "run `plyr check` to create it or set PLYR_S3_BUCKET"
            )
        if code == "InvalidBucketName":
            return StorageUnavailable(
                f"{self.bucket!r} is not a valid S3 bucket name; set PLYR_S3_BUCKET "
                "(3-63 lowercase letters, digits, dots and hyphens)"
            )
        if code in {"AccessDenied", "AllAccessDisabled", "403", "Forbidden"} or status == 403:
            return StorageUnavailable(
                f"{where} denied {action} in bucket {self.bucket!r}; "
                f"{_CREDENTIAL_HINT} and that the key may use this bucket"
            )
        if status >= 500 or code in {"SlowDown", "ServiceUnavailable", "InternalError"}:
            return StorageUnavailable(
                f"{where} failed to {action} ({code or status}); it may be overloaded, try again"
            )
        target = f" {key}" if key else ""
        message = str(error.get("Message", "")).strip()
        return StorageError(
            f"S3 {action}{target} failed: {code or status}" + (f": {message}" if message else "")
        )

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], content_type: str | None = None
    ) -> ObjectInfo:
        validate_key(key)
        client = await self._client()
        extra: dict[str, Any] = {"ContentType": content_type} if content_type else {}
        # Parts are built in a BytesIO and sent as a file: botocore then streams it instead
        # of copying it, so memory stays at about one part.
        buffer = io.BytesIO()
        size = 0
        upload_id: str | None = None
        parts: list[CompletedPartTypeDef] = []

        async def upload_part(body: io.BytesIO) -> None:
            nonlocal upload_id
            if upload_id is None:
                created = await client.create_multipart_upload(Bucket=self.bucket, Key=key, **extra)
                upload_id = created["UploadId"]
            number = len(parts) + 1
            body.seek(0)
            response = await client.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
            )
            parts.append({"ETag": response["ETag"], "PartNumber": number})

        try:
            with self._errors("upload", key):
                async for chunk in chunks:
                    size += len(chunk)
                    view = memoryview(chunk)
                    while view:
                        # A full part goes up only once more data follows, so a stream of
                        # exactly one part stays a single request.
                        if buffer.tell() == self.part_size:
                            await upload_part(buffer)
                            buffer = io.BytesIO()
                        room = self.part_size - buffer.tell()
                        buffer.write(view[:room])
                        view = view[room:]
                if upload_id is None:
                    buffer.seek(0)
                    response = await client.put_object(
                        Bucket=self.bucket, Key=key, Body=buffer, **extra
                    )
                    etag = response.get("ETag")
                else:
                    await upload_part(buffer)
                    completed = await client.complete_multipart_upload(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=upload_id,
                        MultipartUpload={"Parts": parts},
                    )
                    etag = completed.get("ETag")
        except BaseException:
            if upload_id is not None:
                await self._abort_upload(client, key, upload_id)
            raise
        info = await self.stat(key)
        if info is not None:
            return info
        return ObjectInfo(key, size, content_type, etag, datetime.now(UTC))

    async def _abort_upload(self, client: S3Client, key: str, upload_id: str) -> None:
        """Drop the parts of a failed upload; shielded, so a cancelled put still cleans up."""
        with (
            anyio.move_on_after(ABORT_TIMEOUT_SECONDS, shield=True),
            contextlib.suppress(BotoCoreError, ClientError),
        ):
            await client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    async def get_range(
        self, key: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        validate_key(key)
        _check_range_arguments(start, end)
        client = await self._client()
        extra: dict[str, Any] = {}
        if start > 0 or end is not None:
            extra["Range"] = f"bytes={start}-{'' if end is None else end}"
        with self._errors("read", key):
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
        client = await self._client()
        with self._errors("look up", key):
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
        client = await self._client()
        with self._errors("delete", key):
            await client.delete_object(Bucket=self.bucket, Key=key)
        return True

    async def url(self, key: str, *, expires_seconds: int | None = None) -> str:
        validate_key(key)
        if self.public_base_url:
            return f"{self.public_base_url}/{quote(key)}"
        client = await self._client()
        with self._errors("sign a URL for", key):
            return await client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": key},
                ExpiresIn=expires_seconds or self.presign_seconds,
            )

    async def check(self) -> None:
        """Reach the endpoint, create the bucket if it is missing, write, read, delete."""
        client = await self._client()
        with self._errors("check"):
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
        if self.region in ("us-east-1", "auto"):
            await client.create_bucket(Bucket=self.bucket)
        else:
            await client.create_bucket(
                Bucket=self.bucket,
                CreateBucketConfiguration={
                    "LocationConstraint": cast("BucketLocationConstraintType", self.region)
                },
            )

    async def close(self) -> None:
        stack, self._stack, self._s3 = self._stack, None, None
        if stack is not None:
            await stack.aclose()
