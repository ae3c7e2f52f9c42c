"""Streaming an object into S3 with about one part in memory.

Small objects go up in one request, larger ones as a multipart upload that is aborted if
anything fails, so a broken stream leaves neither an object nor a dangling upload behind.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterable
from typing import TYPE_CHECKING, Any

import anyio
from botocore.exceptions import BotoCoreError, ClientError

from plyr.storage.s3.errors import ErrorTranslator

if TYPE_CHECKING:
    from types_aiobotocore_s3.client import S3Client
    from types_aiobotocore_s3.type_defs import CompletedPartTypeDef

ABORT_TIMEOUT_SECONDS = 15.0


async def upload_stream(
    client: S3Client,
    errors: ErrorTranslator,
    bucket: str,
    key: str,
    chunks: AsyncIterable[bytes],
    content_type: str | None,
    *,
    part_size: int,
) -> tuple[int, str | None]:
    """Store `chunks` under `key`; the number of bytes stored and the ETag S3 gave them."""
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
            created = await client.create_multipart_upload(Bucket=bucket, Key=key, **extra)
            upload_id = created["UploadId"]
        number = len(parts) + 1
        body.seek(0)
        response = await client.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
        )
        parts.append({"ETag": response["ETag"], "PartNumber": number})

    try:
        with errors.translate("upload", key):
            async for chunk in chunks:
                size += len(chunk)
                view = memoryview(chunk)
                while view:
                    # A full part goes up only once more data follows, so a stream of
                    # exactly one part stays a single request.
                    if buffer.tell() == part_size:
                        await upload_part(buffer)
                        buffer = io.BytesIO()
                    room = part_size - buffer.tell()
                    buffer.write(view[:room])
                    view = view[room:]
            if upload_id is None:
                buffer.seek(0)
                response = await client.put_object(Bucket=bucket, Key=key, Body=buffer, **extra)
                etag = response.get("ETag")
            else:
                await upload_part(buffer)
                completed = await client.complete_multipart_upload(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
                etag = completed.get("ETag")
    except BaseException:
        if upload_id is not None:
            await _abort_upload(client, bucket, key, upload_id)
        raise
    return size, etag


async def _abort_upload(client: S3Client, bucket: str, key: str, upload_id: str) -> None:
    """Drop the parts of a failed upload; shielded, so a cancelled put still cleans up."""
    with (
        anyio.move_on_after(ABORT_TIMEOUT_SECONDS, shield=True),
        contextlib.suppress(BotoCoreError, ClientError),
    ):
        await client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
