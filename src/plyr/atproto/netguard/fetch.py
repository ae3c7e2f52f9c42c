"""Reading a response whole, within a size limit and a time limit (`fetch_capped`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import anyio
import httpx

__all__ = [
    "Fetched",
    "ResponseTooLarge",
    "fetch_capped",
]

_CHUNK = 16 * 1024


class ResponseTooLarge(ValueError):
    """A response body passed the size limit; reading stopped there."""

    def __init__(self, url: str, limit: int) -> None:
        self.url = url
        self.limit = limit
        super().__init__(f"the response from {url} is larger than {limit} bytes")


@dataclass(frozen=True, slots=True)
class Fetched:
    """A response read whole, within a size limit."""

    url: str
    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def media_type(self) -> str:
        value: str = self.headers.get("content-type", "")
        return value.split(";", 1)[0].strip().lower()

    def text(self) -> str:
        """The body as UTF-8 (UnicodeDecodeError when it is not)."""
        return self.content.decode("utf-8")


async def fetch_capped(
    client: httpx.AsyncClient,
    url: str,
    max_bytes: int,
    *,
    headers: Mapping[str, str] | None = None,
    total_timeout: float | None = None,
    follow_redirects: bool | None = None,
) -> Fetched:
    """GET `url`, reading at most `max_bytes` of body; ResponseTooLarge past that.

    The body is asked for uncompressed, so the limit bounds what is held in memory (a
    compressed body could inflate far past it); a server that compresses anyway is
    refused. `total_timeout` bounds the whole exchange, which httpx's per-read timeouts do
    not (a server could drip one byte at a time); it raises httpx.ReadTimeout.
    `follow_redirects` overrides the client's setting (every hop is guarded).
    """
    request = client.build_request(
        "GET", url, headers={"Accept-Encoding": "identity", **(headers or {})}
    )
    try:
        with anyio.fail_after(total_timeout):
            if follow_redirects is None:
                response = await client.send(request, stream=True)
            else:
                response = await client.send(
                    request, stream=True, follow_redirects=follow_redirects
                )
            try:
                return await _read_capped(response, url, max_bytes)
            finally:
                await response.aclose()
    except TimeoutError:
        raise httpx.ReadTimeout(
            f"{url} did not answer completely within {total_timeout}s", request=request
        ) from None


async def _read_capped(response: httpx.Response, url: str, max_bytes: int) -> Fetched:
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise ValueError(f"{url} answered with a compressed body ({encoding}) though asked not to")
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLarge(url, max_bytes)
    body = bytearray()
    async for chunk in response.aiter_raw(_CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise ResponseTooLarge(url, max_bytes)
    return Fetched(
        url=str(response.url),
        status_code=response.status_code,
        headers=response.headers,
        content=bytes(body),
    )
