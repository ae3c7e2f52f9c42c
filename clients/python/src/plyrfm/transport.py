"""The I/O edge: performs the effects of operations (effects.py) with httpx, blocking for
`Client` (`SyncTransport`) and awaiting for `AsyncClient` (`AsyncTransport`). Everything
else — retries, paging, progress — is decided by the operations, once for both."""

from __future__ import annotations

import asyncio
import errno
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from plyrfm.effects import (
    Attempt,
    Close,
    Effect,
    Emit,
    HttpRequest,
    HttpResponse,
    Operation,
    ReadChunk,
    Sleep,
    TransportFailure,
)
from plyrfm.version import __version__

T = TypeVar("T")
CHUNK = 64 * 1024
USER_AGENT = f"plyrfm/{__version__} (python)"


@dataclass(frozen=True)
class Timeout:
    """Seconds to wait for a connection, and then for each read and write; a plain number
    given to a client sets all three."""

    connect: float = 10.0
    read: float = 60.0
    write: float = 60.0

    @classmethod
    def of(cls, value: float | Timeout | None) -> Timeout:
        if value is None:
            return cls()
        if isinstance(value, Timeout):
            return value
        return cls(float(value), float(value), float(value))

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect, read=self.read, write=self.write, pool=self.connect
        )


def _refused(exc: BaseException) -> bool:
    while exc is not None:
        if (
            isinstance(exc, ConnectionRefusedError)
            or getattr(exc, "errno", None) == errno.ECONNREFUSED
        ):
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return False


def failure(exc: httpx.HTTPError, timeout: Timeout) -> TransportFailure:
    """What went wrong, in words, and whether the request surely never left."""
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return TransportFailure(
            f"no connection within {timeout.connect:g} s", timeout=True, before_sending=True
        )
    if isinstance(exc, httpx.ReadTimeout):
        return TransportFailure(f"no answer within {timeout.read:g} s", timeout=True)
    if isinstance(exc, httpx.WriteTimeout):
        return TransportFailure(f"sending stalled for {timeout.write:g} s", timeout=True)
    if isinstance(exc, httpx.ConnectError):
        text = str(exc).lower()
        if _refused(exc) or "refused" in text:
            reason = "connection refused"
        elif "name or service" in text or "nodename" in text or "getaddrinfo" in text:
            reason = "its host name does not resolve"
        else:
            reason = f"cannot connect: {exc or type(exc).__name__}"
        return TransportFailure(reason, before_sending=True)
    if isinstance(exc, httpx.TooManyRedirects):
        return TransportFailure("it redirects in a loop")
    if isinstance(exc, httpx.UnsupportedProtocol):
        return TransportFailure(f"not an http(s) address: {exc}", before_sending=True)
    return TransportFailure(f"the connection broke: {exc or type(exc).__name__}")


class _Base:
    def __init__(self, base_url: str, token: str | None, timeout: Timeout) -> None:
        self.base_url = httpx.URL(base_url.rstrip("/") + "/")
        self.token = token
        self.timeout = timeout

    def _headers(self, request: HttpRequest, url: httpx.URL) -> dict[str, str]:
        headers = dict(request.headers)
        same_site = not url.is_absolute_url or (
            url.scheme == self.base_url.scheme and url.netloc == self.base_url.netloc
        )
        # The token goes to plyr only, never to another host a link may point at.
        if request.auth and self.token and same_site:
            headers["authorization"] = f"Bearer {self.token}"
        return headers

    def _url(self, request: HttpRequest) -> httpx.URL:
        url = httpx.URL(request.path)
        return url if url.is_absolute_url else self.base_url.join(request.path.lstrip("/"))

    def _parts(self, request: HttpRequest) -> dict[str, Any]:
        """What `build_request` takes, the body aside (blocking or async)."""
        url = self._url(request)
        return {
            "method": request.method,
            "url": url,
            "params": request.params or None,
            "json": request.json,
            "headers": self._headers(request, url),
        }

    @staticmethod
    def _answer(response: httpx.Response, content: bytes = b"") -> HttpResponse:
        headers = {k.lower(): v for k, v in response.headers.items()}
        return HttpResponse(response.status_code, headers, content, str(response.url))


def follows(request: HttpRequest) -> bool:
    """Redirects are followed for reads only (a download sent on to storage or a CDN;
    httpx drops the token when the new address is another host). A write that is
    redirected is not sent again: httpx would turn a POST into a GET on 301/302, and
    cannot replay a streamed upload on 307/308. exchange.send says what happened."""
    return request.method in ("GET", "HEAD")


def _client_options(timeout: Timeout) -> dict[str, Any]:
    return {
        "timeout": timeout.httpx(),
        "headers": {"user-agent": USER_AGENT, "accept": "application/json"},
    }


class SyncTransport(_Base):
    def __init__(self, base_url: str, token: str | None, timeout: Timeout) -> None:
        super().__init__(base_url, token, timeout)
        self._http = httpx.Client(**_client_options(timeout))

    def close(self) -> None:
        self._http.close()

    def run(self, operation: Operation[T]) -> T:
        """Perform the operation's effects until it returns."""
        opened: list[httpx.Response] = []
        try:
            result: Any = None
            while True:
                try:
                    effect = operation.send(result)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
                if isinstance(effect, Emit):
                    raise TypeError("a paging operation goes through iterate()")
                result = self._perform(effect, opened)
        finally:
            operation.close()
            for response in opened:
                response.close()

    def iterate(self, operation: Operation[None]) -> Iterator[Any]:
        """The items a paging operation emits, fetched as the caller asks for them."""
        opened: list[httpx.Response] = []
        try:
            result: Any = None
            while True:
                try:
                    effect = operation.send(result)
                except StopIteration:
                    return
                if isinstance(effect, Emit):
                    yield effect.item
                    result = None
                else:
                    result = self._perform(effect, opened)
        finally:
            operation.close()
            for response in opened:
                response.close()

    def _perform(self, effect: Effect, opened: list[httpx.Response]) -> Any:
        if isinstance(effect, Sleep):
            time.sleep(effect.seconds)
            return None
        if isinstance(effect, Close):
            effect.response.handle[0].close()
            return None
        if isinstance(effect, ReadChunk):
            try:
                return next(effect.response.handle[1], b"")
            except httpx.HTTPError as exc:
                return failure(exc, self.timeout)
        assert isinstance(effect, Attempt)
        return self._attempt(effect.request, opened)

    def _attempt(self, request: HttpRequest, opened: list[httpx.Response]) -> Any:
        built = self._http.build_request(
            **self._parts(request), content=request.body() if request.body else None
        )
        try:
            response = self._http.send(built, stream=True, follow_redirects=follows(request))
        except httpx.HTTPError as exc:
            return failure(exc, self.timeout)
        if request.stream and response.status_code < 400:
            opened.append(response)
            answer = self._answer(response)
            answer.handle = (response, response.iter_bytes(CHUNK))
            return answer
        try:
            content = response.read()
        except httpx.HTTPError as exc:
            return failure(exc, self.timeout)
        finally:
            response.close()
        return self._answer(response, content)


async def _aiter(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    # Bodies are built from local files, chunk by chunk: reading one is quick.
    for chunk in chunks:
        yield chunk


class AsyncTransport(_Base):
    def __init__(self, base_url: str, token: str | None, timeout: Timeout) -> None:
        super().__init__(base_url, token, timeout)
        self._http = httpx.AsyncClient(**_client_options(timeout))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def run(self, operation: Operation[T]) -> T:
        opened: list[httpx.Response] = []
        try:
            result: Any = None
            while True:
                try:
                    effect = operation.send(result)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
                if isinstance(effect, Emit):
                    raise TypeError("a paging operation goes through iterate()")
                result = await self._perform(effect, opened)
        finally:
            operation.close()
            for response in opened:
                await response.aclose()

    async def iterate(self, operation: Operation[None]) -> AsyncIterator[Any]:
        opened: list[httpx.Response] = []
        try:
            result: Any = None
            while True:
                try:
                    effect = operation.send(result)
                except StopIteration:
                    return
                if isinstance(effect, Emit):
                    yield effect.item
                    result = None
                else:
                    result = await self._perform(effect, opened)
        finally:
            operation.close()
            for response in opened:
                await response.aclose()

    async def _perform(self, effect: Effect, opened: list[httpx.Response]) -> Any:
        if isinstance(effect, Sleep):
            await asyncio.sleep(effect.seconds)
            return None
        if isinstance(effect, Close):
            await effect.response.handle[0].aclose()
            return None
        if isinstance(effect, ReadChunk):
            try:
                return await anext(effect.response.handle[1], b"")
            except httpx.HTTPError as exc:
                return failure(exc, self.timeout)
        assert isinstance(effect, Attempt)
        return await self._attempt(effect.request, opened)

    async def _attempt(self, request: HttpRequest, opened: list[httpx.Response]) -> Any:
        built = self._http.build_request(
            **self._parts(request), content=_aiter(request.body()) if request.body else None
        )
        try:
            response = await self._http.send(built, stream=True, follow_redirects=follows(request))
        except httpx.HTTPError as exc:
            return failure(exc, self.timeout)
        if request.stream and response.status_code < 400:
            opened.append(response)
            answer = self._answer(response)
            answer.handle = (response, response.aiter_bytes(CHUNK))
            return answer
        try:
            content = await response.aread()
        except httpx.HTTPError as exc:
            return failure(exc, self.timeout)
        finally:
            await response.aclose()
        return self._answer(response, content)
