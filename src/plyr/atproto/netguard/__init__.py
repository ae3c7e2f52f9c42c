"""A guard for URLs fetched on a user's behalf (handles, DID documents, PDS metadata).

A user controls the handle they type and the documents it leads to, so every such URL
could point plyr at its own private network (a cloud metadata service, a database, an
admin port on 127.0.0.1). The guard refuses:

- schemes other than http and https, and credentials in the URL;
- hosts that are, or resolve to, an address that is not public: private, loopback,
  link-local, multicast, reserved, unspecified, shared (CGNAT 100.64/10), documentation
  and benchmarking ranges, unique-local IPv6 (fc00::/7), and IPv6 forms that embed such an
  IPv4 address (IPv4-mapped, NAT64, 6to4).

`allow_loopback=True` lets loopback through (127/8, ::1, `localhost`) and nothing else: the
local development network (a PLC directory and a PDS on 127.0.0.1) needs it.

The check happens where the connection is made: `GuardedTransport` resolves the host
itself, checks every address, and connects to one of the checked addresses. The address
is pinned: there is no second lookup a DNS-rebinding server could answer differently.
TLS still verifies the certificate against the host name (httpcore sends the original
host as SNI), and the connection pool keys by host name, so a connection is only reused
for the host it was checked and verified for. Redirects are not followed by default; when
a caller turns them on, every hop goes through the same transport and is checked again.

The package holds the address policy (`addresses`, no I/O) and the size-capped fetch
(`fetch`); this module holds what connects: name resolution, `GuardedTransport` and
`guarded_client`. They stay here, in the package itself, because `resolve_addresses` is
looked up in this namespace at every connection: replacing `netguard.resolve_addresses`
(as the tests do, to fake DNS) reaches the transport.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import anyio
import httpcore
import httpx

from plyr import __version__
from plyr.atproto.netguard.addresses import (
    BlockedAddress,
    IPAddress,
    address_problem,
    check_address,
    check_url_syntax,
    is_loopback_name,
    parse_address,
)
from plyr.atproto.netguard.fetch import Fetched, ResponseTooLarge, fetch_capped

if TYPE_CHECKING:
    from plyr.config import Settings

__all__ = [
    "USER_AGENT",
    "BlockedAddress",
    "Fetched",
    "GuardedTransport",
    "IPAddress",
    "ResponseTooLarge",
    "address_problem",
    "check_address",
    "check_url",
    "check_url_syntax",
    "fetch_capped",
    "guarded_client",
    "resolve_addresses",
]

USER_AGENT = f"plyr/{__version__} (+https://plyr.fm)"
MAX_REDIRECTS = 5


async def resolve_addresses(host: str, port: int) -> list[str]:
    """Every address `host` resolves to for a TCP connection (OSError when it does not)."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise OSError(f"{host} has no addresses")
    return addresses


async def _checked_addresses(host: str, port: int, *, allow_loopback: bool) -> list[str]:
    bare = host.rstrip(".").lower()
    if is_loopback_name(bare) and not allow_loopback:
        raise BlockedAddress(host, f"{bare} is a loopback host name")
    addresses = await resolve_addresses(host, port)
    # Every address must pass: a host that mixes a public and a private address would
    # otherwise be a coin toss away from the private one.
    for address in addresses:
        problem = address_problem(address, allow_loopback=allow_loopback)
        if problem is not None:
            raise BlockedAddress(host, f"{host} resolves to {address}, {problem}")
    return addresses


async def check_url(url: str | httpx.URL, *, allow_loopback: bool) -> list[IPAddress]:
    """Check a URL before handing it on: syntax, then every address its host resolves to.

    Raises BlockedAddress, or OSError when the host does not resolve. Fetch through
    `guarded_client` anyway: it checks again at connection time (DNS can change).
    """
    parsed = check_url_syntax(url, allow_loopback=allow_loopback)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = await _checked_addresses(parsed.host, port, allow_loopback=allow_loopback)
    except BlockedAddress as exc:
        raise BlockedAddress(str(url), exc.reason) from None
    return [parse_address(address) for address in addresses]


# ---------------------------------------------------------------------------------------
# enforcement at connection time


class _GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolve, check every address, then connect to a checked address (pinned)."""

    def __init__(self, *, allow_loopback: bool) -> None:
        self._allow_loopback = allow_loopback
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await _checked_addresses(
                    host, port, allow_loopback=self._allow_loopback
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout}s") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectTimeout:
                raise
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress(path, "unix sockets may not be used")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """An httpx transport that only connects to addresses the guard accepts.

    Environment proxies are never used (a proxy would resolve names itself).
    """

    def __init__(
        self,
        *,
        allow_loopback: bool,
        limits: httpx.Limits | None = None,
        verify: bool = True,
        http2: bool = False,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        super().__init__(verify=verify, trust_env=False, limits=limits, http2=http2)
        self.allow_loopback = allow_loopback
        # httpx has no public hook for the network backend; its pool (built above, never
        # opened) is replaced by an identical one that connects through the guard.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=http2,
            network_backend=_GuardedNetworkBackend(allow_loopback=allow_loopback),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        check_url_syntax(request.url, allow_loopback=self.allow_loopback)
        try:
            return await super().handle_async_request(request)
        except BlockedAddress as exc:
            raise BlockedAddress(str(request.url), exc.reason) from None


def guarded_client(
    settings: Settings,
    *,
    timeout: float | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.AsyncClient:
    """An httpx client for user-controlled URLs: guarded, time-limited, no redirects.

    Loopback is allowed only on the development network (never in production).
    """
    allow_loopback = settings.atproto_dev_network and settings.environment != "production"
    return httpx.AsyncClient(
        transport=GuardedTransport(allow_loopback=allow_loopback),
        timeout=httpx.Timeout(
            timeout if timeout is not None else settings.identity_timeout_seconds
        ),
        follow_redirects=False,
        max_redirects=MAX_REDIRECTS,
        trust_env=False,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
    )
