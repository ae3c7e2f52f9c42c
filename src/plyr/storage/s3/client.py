"""The aiobotocore S3 client: configured (timeouts, retries, checksums), made on first use."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

import anyio
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore.exceptions import BotoCoreError

from plyr.storage.base import StorageUnavailable

if TYPE_CHECKING:
    from types_aiobotocore_s3.client import S3Client

CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 60.0
# Total tries per request, the first one included: enough to ride out a blip, few enough
# that an endpoint which is down is reported within a second or two.
MAX_ATTEMPTS = 3


_session: AioSession | None = None


def _shared_session() -> AioSession:
    """One session per process: it caches the parsed service model, making clients cheap."""
    global _session
    if _session is None:
        _session = AioSession()
    return _session


class LazyS3Client:
    """One S3 client for one endpoint, made on first use and kept until `close`."""

    def __init__(
        self,
        *,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        addressing_style: str,
        connect_timeout: float,
        max_attempts: int,
        shown_endpoint: str,
    ) -> None:
        self._endpoint_url = endpoint_url
        self._region = region
        self._access_key_id = access_key_id
        self._secret_access_key = secret_access_key
        self._shown_endpoint = shown_endpoint
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
        self._stack: AsyncExitStack | None = None
        self._s3: S3Client | None = None
        self._lock = anyio.Lock()

    async def get(self) -> S3Client:
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
                            endpoint_url=self._endpoint_url,
                            region_name=self._region,
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

    async def close(self) -> None:
        stack, self._stack, self._s3 = self._stack, None, None
        if stack is not None:
            await stack.aclose()
