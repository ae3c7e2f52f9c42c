"""Which addresses and URLs the guard lets plyr fetch: the policy, with no I/O.

An address is refused when it is not public (see the package docstring for the list);
a URL when its scheme is not http(s), it carries credentials, or its host is an IP
literal or `localhost` name that is refused. Names are resolved elsewhere
(plyr.atproto.netguard), and every address they resolve to is checked here.
"""

from __future__ import annotations

import ipaddress

import httpx

__all__ = [
    "ALLOWED_SCHEMES",
    "BlockedAddress",
    "IPAddress",
    "address_problem",
    "check_address",
    "check_url_syntax",
    "is_loopback_name",
    "parse_address",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = frozenset({"http", "https"})


class BlockedAddress(ValueError):
    """A URL may not be fetched: bad scheme, credentials, or a non-public address."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"refused to fetch {url}: {reason}")


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


def parse_address(value: str | IPAddress) -> IPAddress:
    """An address object from its text (ValueError when it is none), IPv6 zone dropped."""
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
    address = parse_address(value)
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


def is_loopback_name(host: str) -> bool:
    """`localhost` or a name under it: loopback whatever DNS says (a lowercase host)."""
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
        literal: IPAddress | None = parse_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        check_address(literal, allow_loopback=allow_loopback, url=shown)
    elif is_loopback_name(host) and not allow_loopback:
        raise BlockedAddress(shown, f"{host} is a loopback host name")
    return parsed
