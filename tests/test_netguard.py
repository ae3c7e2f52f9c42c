"""The network guard: address checks, URL checks, and real requests through the transport.

`LocalServer` (a threaded http.server on 127.0.0.1) is also used by test_identity_*.py.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from plyr.atproto import netguard
from plyr.atproto.netguard import (
    BlockedAddress,
    GuardedTransport,
    ResponseTooLarge,
    address_problem,
    check_url,
    check_url_syntax,
    fetch_capped,
    guarded_client,
)
from tests.conftest import make_settings
from tests.support.local_http import LocalServer


def client(*, allow_loopback: bool, timeout: float = 5.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=GuardedTransport(allow_loopback=allow_loopback), timeout=timeout
    )


# ---------------------------------------------------------------------------------------
# address checks

BLOCKED = [
    "10.0.0.1",
    "10.255.255.255",
    "172.16.5.4",
    "172.31.255.1",
    "192.168.1.1",
    "127.0.0.1",
    "127.8.9.10",
    "169.254.169.254",
    "100.64.0.1",
    "100.127.255.254",
    "0.0.0.0",  # noqa: S104 - an address to refuse, not to bind
    "0.1.2.3",
    "192.0.0.8",
    "192.0.2.1",
    "198.18.0.1",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "::127.0.0.1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a00:1",
    "64:ff9b:1::1",
    "2002:a00:1::1",
    "2002:7f00:1::1",
    "2001:db8::1",
    "2001::1",
    "100::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fe80::1%eth0",
    "fec0::1",
    "ff02::1",
]

PUBLIC = [
    "1.1.1.1",
    "8.8.8.8",
    "100.128.0.1",
    "172.32.0.1",
    "192.169.0.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001::200e",
    "::ffff:1.1.1.1",
    "64:ff9b::101:101",
    "2002:101:101::1",
]


@pytest.mark.parametrize("address", BLOCKED)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert address_problem(address, allow_loopback=False) is not None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(address, allow_loopback=False) is None
    assert address_problem(address, allow_loopback=True) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"])
def test_allow_loopback_lets_loopback_through(address: str) -> None:
    assert address_problem(address, allow_loopback=True) is None


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "fc00::1",
        "fe80::1",
        "0.0.0.0",  # noqa: S104 - an address to refuse, not to bind
    ],
)
def test_allow_loopback_allows_nothing_else(address: str) -> None:
    assert address_problem(address, allow_loopback=True) is not None


def test_reasons_name_the_kind_of_address() -> None:
    assert address_problem("10.1.2.3", allow_loopback=False) == "a private address"
    assert "carrier-grade" in str(address_problem("100.64.1.1", allow_loopback=False))
    assert "link-local" in str(address_problem("169.254.169.254", allow_loopback=False))
    assert "loopback" in str(address_problem("::ffff:127.0.0.1", allow_loopback=False))


# ---------------------------------------------------------------------------------------
# URL checks


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/file",
        "file:///etc/passwd",
        "gopher://example.com/",
        "http://user:secret@example.com/",
        "https://user@example.com/",
        "http://localhost/",
        "http://LOCALHOST./",
        "http://api.localhost:8080/",
        "http://127.0.0.1:8000/",
        "http://[::1]/",
        "http://[::ffff:7f00:1]/",
        "http://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/",
        "https://[fd00::1]/",
        "http:///path-without-host",
    ],
)
def test_url_syntax_refusals(url: str) -> None:
    with pytest.raises(BlockedAddress) as caught:
        check_url_syntax(url, allow_loopback=False)
    assert caught.value.url == url
    assert caught.value.reason


def test_url_syntax_accepts_public_names_and_loopback_when_allowed() -> None:
    assert check_url_syntax("https://example.com/x?y=1", allow_loopback=False).host == "example.com"
    check_url_syntax("http://localhost:2583/", allow_loopback=True)
    check_url_syntax("http://127.0.0.1:2583/", allow_loopback=True)
    with pytest.raises(BlockedAddress):
        check_url_syntax("http://user:pw@localhost/", allow_loopback=True)
    with pytest.raises(BlockedAddress):
        check_url_syntax("http://10.0.0.1/", allow_loopback=True)


async def test_check_url_resolves_names() -> None:
    assert {str(a) for a in await check_url("http://localhost/", allow_loopback=True)} <= {
        "127.0.0.1",
        "::1",
    }
    # Not an IP literal to the URL parser, but the system resolver reads it as 127.0.0.1.
    with pytest.raises(BlockedAddress, match=r"resolves to 127\.0\.0\.1"):
        await check_url("http://2130706433/", allow_loopback=False)


# ---------------------------------------------------------------------------------------
# real requests through the guarded transport


async def test_loopback_server_refused_unless_allowed(server: LocalServer) -> None:
    server.route("/ok", body=b"hello")
    async with client(allow_loopback=False) as guarded:
        with pytest.raises(BlockedAddress) as caught:
            await guarded.get(f"{server.url}/ok")
    assert caught.value.url == f"{server.url}/ok"
    assert server.requests == []
    async with client(allow_loopback=True) as guarded:
        response = await guarded.get(f"{server.url}/ok")
    assert response.status_code == 200
    assert response.text == "hello"


async def test_localhost_name_refused_unless_allowed(server: LocalServer) -> None:
    server.route("/ok", body=b"hi")
    url = f"http://localhost:{server.port}/ok"
    async with client(allow_loopback=False) as guarded:
        with pytest.raises(BlockedAddress, match="loopback"):
            await guarded.get(url)
    async with client(allow_loopback=True) as guarded:
        assert (await guarded.get(url)).text == "hi"
    assert len(server.requests) == 1


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f000001"])
async def test_names_resolving_to_loopback_are_checked_at_connect_time(
    server: LocalServer, host: str
) -> None:
    server.route("/ok", body=b"hi")
    url = f"http://{host}:{server.port}/ok"
    check_url_syntax(url, allow_loopback=False)  # passes: it is not an IP literal
    async with client(allow_loopback=False) as guarded:
        with pytest.raises(BlockedAddress, match=r"resolves to 127\.0\.0\.1"):
            await guarded.get(url)
    assert server.requests == []
    async with client(allow_loopback=True) as guarded:
        assert (await guarded.get(url)).text == "hi"


async def test_connection_is_pinned_to_the_checked_address(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The transport connects to the address it checked: nothing resolves the name again."""
    lookups: list[str] = []

    async def fake_resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        return {"pinned.example": ["127.0.0.1"], "mixed.example": ["127.0.0.1", "10.0.0.7"]}[host]

    monkeypatch.setattr(netguard, "resolve_addresses", fake_resolve)
    server.route("/who", host="pinned.example", body=b"pinned")
    async with client(allow_loopback=True) as guarded:
        response = await guarded.get(f"http://pinned.example:{server.port}/who")
        assert response.text == "pinned"
        assert server.requests[-1].host == f"pinned.example:{server.port}"
        # One bad address among good ones refuses the host.
        with pytest.raises(BlockedAddress, match=r"10\.0\.0\.7"):
            await guarded.get(f"http://mixed.example:{server.port}/who")
    assert lookups == ["pinned.example", "mixed.example"]
    async with client(allow_loopback=False) as guarded:
        with pytest.raises(BlockedAddress):
            await guarded.get(f"http://pinned.example:{server.port}/who")


async def test_credentials_refused_by_the_transport(server: LocalServer) -> None:
    async with client(allow_loopback=True) as guarded:
        with pytest.raises(BlockedAddress, match="credentials"):
            await guarded.get(f"http://user:pw@127.0.0.1:{server.port}/")
    assert server.requests == []


async def test_redirect_to_a_private_address_is_refused(server: LocalServer) -> None:
    server.route(
        "/hop", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    server.route("/local-hop", status=302, headers={"Location": "http://10.1.2.3:8080/admin"})
    async with client(allow_loopback=True) as guarded:
        with pytest.raises(BlockedAddress) as caught:
            await guarded.get(f"{server.url}/hop", follow_redirects=True)
        assert caught.value.url == "http://169.254.169.254/latest/meta-data/"
        with pytest.raises(BlockedAddress, match="private"):
            await guarded.get(f"{server.url}/local-hop", follow_redirects=True)


async def test_guarded_client_follows_settings(server: LocalServer, tmp_path: Path) -> None:
    server.route("/hop", status=302, headers={"Location": "http://127.0.0.1:1/elsewhere"})
    db = "sqlite+aiosqlite:///:memory:"
    production_like = make_settings(tmp_path, db, atproto_dev_network=False)
    development = make_settings(tmp_path, db, atproto_dev_network=True)
    async with guarded_client(production_like) as http:
        with pytest.raises(BlockedAddress):
            await http.get(f"{server.url}/hop")
    async with guarded_client(development) as http:
        response = await http.get(f"{server.url}/hop")
        assert response.status_code == 302  # redirects are not followed
        assert response.request.headers["user-agent"].startswith("plyr/")
        assert http.timeout.read == development.identity_timeout_seconds


# ---------------------------------------------------------------------------------------
# size-capped fetch


async def test_fetch_capped_reads_within_the_limit(server: LocalServer) -> None:
    server.route("/small", body=b"x" * 100, headers={"Content-Type": "text/plain; charset=utf-8"})
    async with client(allow_loopback=True) as guarded:
        fetched = await fetch_capped(guarded, f"{server.url}/small", 100)
    assert fetched.status_code == 200
    assert fetched.content == b"x" * 100
    assert fetched.media_type == "text/plain"
    assert fetched.text() == "x" * 100


@pytest.mark.parametrize("chunked", [False, True])
async def test_fetch_capped_stops_past_the_limit(server: LocalServer, chunked: bool) -> None:
    server.route("/big", body=b"y" * 50_000, chunked=chunked)
    async with client(allow_loopback=True) as guarded:
        with pytest.raises(ResponseTooLarge) as caught:
            await fetch_capped(guarded, f"{server.url}/big", 10_000)
    assert caught.value.limit == 10_000


async def test_fetch_capped_asks_for_an_uncompressed_body(server: LocalServer) -> None:
    server.route("/gz", body=b"\x1f\x8b", headers={"Content-Encoding": "gzip"})
    async with client(allow_loopback=True) as guarded:
        with pytest.raises(ValueError, match="compressed"):
            await fetch_capped(guarded, f"{server.url}/gz", 1000)
    assert server.requests[-1].path == "/gz"


async def test_fetch_capped_bounds_the_whole_exchange(server: LocalServer) -> None:
    # Every byte arrives within the read timeout; the whole body would take 4 s.
    server.route("/drip", body=b"z" * 20, drip_seconds=0.2)
    async with client(allow_loopback=True, timeout=1.0) as guarded:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            await fetch_capped(guarded, f"{server.url}/drip", 1000, total_timeout=0.7)
    assert time.monotonic() - started < 2.0


async def test_silent_server_times_out(silent_port: int) -> None:
    async with client(allow_loopback=True, timeout=0.5) as guarded:
        started = time.monotonic()
        with pytest.raises(httpx.TimeoutException):
            await fetch_capped(guarded, f"http://127.0.0.1:{silent_port}/", 1000)
    assert time.monotonic() - started < 2.0
