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
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import httpcore
import httpx

from plyr import __version__

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

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

USER_AGENT = f"plyr/{__version__} (+https://plyr.fm)"
ALLOWED_SCHEMES = frozenset({"http", "https"})
MAX_REDIRECTS = 5
_CHUNK = 16 * 1024


class BlockedAddress(ValueError):
    """A URL may not be fetched: bad scheme, credentials, or a non-public address."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"refused to fetch {url}: {reason}")


class ResponseTooLarge(ValueError):
    """A response body passed the size limit; reading stopped there."""

    def __init__(self, url: str, limit: int) -> None:
        self.url = url
        self.limit = limit
        super().__init__(f"the response from {url} is larger than {limit} bytes")


# ---------------------------------------------------------------------------------------
# address checks

# Listed explicitly (not only through `ipaddress` flags) because the flags change between
# Python versions and miss some ranges: 100.64/10 is neither private nor global, and
# 192.0.0.0/24 counts as global in 3.11.
_BLOCKED_NETWORKS: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(network), label)
    for network, label in (
        ("0.0.0.0/8", "an unspecified ('this network') address"),
        ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
        ("169.254.0.0/16", "a link-local address"),
        ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "an IETF protocol address"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a 6to4 relay address"),
        ("192.168.0.0/16", "a private address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
        ("::/96", "an unspecified or IPv4-compatible address"),
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("100::/64", "a discard address"),
        ("2001::/23", "an IETF protocol address"),
        ("2001:db8::/32", "a documentation address"),
        ("fc00::/7", "a unique-local address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _parse_address(value: str | IPAddress) -> IPAddress:
    if isinstance(value, str):
        # getaddrinfo reports link-local IPv6 with a zone ("fe80::1%eth0"); the zone does
        # not change what kind of address it is.
        return ipaddress.ip_address(value.split("%", 1)[0])
    return value


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_problem(value: str | IPAddress, *, allow_loopback: bool) -> str | None:
    """Why plyr may not connect to this address, or None when it may."""
    address = _parse_address(value)
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            problem = address_problem(embedded, allow_loopback=allow_loopback)
            if problem is not None:
                return f"{problem} ({embedded} inside {address})"
            if address.ipv4_mapped is not None:
                return None  # ::ffff:a.b.c.d is how dual-stack sockets spell IPv4
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    for network, label in _BLOCKED_NETWORKS:
        if address in network:
            return label
    if address.is_multicast:
        return "a multicast address"
    if not address.is_global:
        return "not a public address"
    return None


def check_address(value: str | IPAddress, *, allow_loopback: bool, url: str = "") -> None:
    problem = address_problem(value, allow_loopback=allow_loopback)
    if problem is not None:
        raise BlockedAddress(url or str(value), f"{value} is {problem}")


def _is_loopback_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def check_url_syntax(url: str | httpx.URL, *, allow_loopback: bool) -> httpx.URL:
    """The checks that need no DNS: scheme, credentials, IP literals, `localhost` names."""
    shown = str(url)
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise BlockedAddress(shown, f"not a valid URL ({exc})") from None
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise BlockedAddress(shown, "only http and https URLs may be fetched")
    if parsed.userinfo:
        raise BlockedAddress(shown, "URLs with credentials may not be fetched")
    host = parsed.host.rstrip(".").lower()
    if not host:
        raise BlockedAddress(shown, "the URL has no host")
    try:
        literal: IPAddress | None = _parse_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        check_address(literal, allow_loopback=allow_loopback, url=shown)
    elif _is_loopback_name(host) and not allow_loopback:
        raise BlockedAddress(shown, f"{host} is a loopback host name")
    return parsed


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
    if _is_loopback_name(bare) and not allow_loopback:
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
    return [_parse_address(address) for address in addresses]


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


# ---------------------------------------------------------------------------------------
# size-capped fetch


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
