"""The vocabulary between the SDK's logic and its I/O.

Every API call is written once, as a generator (an *operation*) that yields effects —
"send this request", "read the next chunk", "sleep", "hand this item to the caller" — and
receives their results. `transport.py` performs them with httpx, blocking for `Client`
and awaiting for `AsyncClient`. So retries, paging, the upload's progress stream and
polling exist once, not once per client, and hold no I/O of their own."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str  # relative to the client's base URL, or an absolute URL
    params: tuple[tuple[str, str], ...] = ()
    json: Any = None
    # A factory, so a retried request sends the body again from its start.
    body: Callable[[], Iterator[bytes]] | None = None
    headers: tuple[tuple[str, str], ...] = ()
    auth: bool = True  # send the token (when there is one)
    stream: bool = False  # leave the body unread: ReadChunk fetches it


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    content: bytes = b""  # empty while streamed (`stream`)
    url: str = ""
    handle: Any = field(default=None, repr=False)  # the transport's open stream

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class TransportFailure:
    """No (whole) answer: what happened, and whether the request surely never left
    (a refused connection), which makes any method safe to retry."""

    reason: str
    timeout: bool = False
    before_sending: bool = False


@dataclass(frozen=True)
class Attempt:
    """Send the request once → HttpResponse | TransportFailure."""

    request: HttpRequest


@dataclass(frozen=True)
class ReadChunk:
    """The next piece of a streamed body → bytes (b"" at its end) | TransportFailure."""

    response: HttpResponse


@dataclass(frozen=True)
class Close:
    """Release a streamed response before its end → None."""

    response: HttpResponse


@dataclass(frozen=True)
class Sleep:
    """Wait → None."""

    seconds: float


@dataclass(frozen=True)
class Emit:
    """Hand one item to the caller of a paging method → None."""

    item: Any


Effect = Attempt | ReadChunk | Close | Sleep | Emit
# An operation: yields effects, receives their results, returns the call's value.
Operation = Generator[Effect, Any, T]
