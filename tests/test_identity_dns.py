"""Handles through DNS TXT records.

The resolver's DNS answers are faked; HTTPS lookups of the made-up hosts fail offline.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.resolver
import pytest

from plyr.atproto import netguard
from plyr.atproto.identity import (
    HandleNotFound,
    IdentityBlocked,
    IdentityResolver,
    IdentityUnavailable,
)
from tests.support.identity import UNKNOWN_PLC, settings_for
from tests.support.local_http import LocalServer


class FakeTxt:
    def __init__(self, *strings: bytes) -> None:
        self.strings = strings


@pytest.fixture
def dns_answers(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[FakeTxt] | Exception]:
    answers: dict[str, list[FakeTxt] | Exception] = {}

    async def fake_resolve(
        self: dns.asyncresolver.Resolver, qname: str, rdtype: str, **kwargs: object
    ) -> list[FakeTxt]:
        assert rdtype == "TXT"
        answer = answers.get(str(qname), dns.resolver.NXDOMAIN())  # type: ignore[no-untyped-call]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def no_such_host(host: str, port: int) -> list[str]:
        raise OSError(f"{host}: name does not resolve (test)")

    monkeypatch.setattr(dns.asyncresolver.Resolver, "resolve", fake_resolve)
    monkeypatch.setattr(netguard, "resolve_addresses", no_such_host)
    return answers


@pytest.fixture
async def dns_resolver(tmp_path: Path, server: LocalServer) -> AsyncIterator[IdentityResolver]:
    settings = settings_for(tmp_path, server.url, identity_timeout_seconds=1.0)
    async with IdentityResolver(settings) as resolver:
        yield resolver


async def test_dns_txt_record_resolves_a_handle(
    dns_resolver: IdentityResolver, dns_answers: dict[str, Any]
) -> None:
    dns_answers["_atproto.dns-user.plyr-test.org"] = [
        FakeTxt(b"some other text"),
        FakeTxt(b"did=", UNKNOWN_PLC.encode()),  # long TXT records arrive split
        FakeTxt(f"did={UNKNOWN_PLC}".encode()),  # the same DID twice is fine
    ]
    assert await dns_resolver.resolve_handle("DNS-User.plyr-test.org") == UNKNOWN_PLC


async def test_dns_with_several_dids_fails(
    dns_resolver: IdentityResolver, dns_answers: dict[str, Any]
) -> None:
    dns_answers["_atproto.two.plyr-test.org"] = [
        FakeTxt(f"did={UNKNOWN_PLC}".encode()),
        FakeTxt(b"did=did:plc:" + b"b" * 24),
    ]
    with pytest.raises(HandleNotFound, match="several different DIDs"):
        await dns_resolver.resolve_handle("two.plyr-test.org")


async def test_no_dns_and_no_web_server_is_not_found(
    dns_resolver: IdentityResolver, dns_answers: dict[str, Any]
) -> None:
    dns_answers["_atproto.bad.plyr-test.org"] = [FakeTxt(b"did=not-a-did")]
    with pytest.raises(HandleNotFound, match=r"@nobody\.plyr-test\.org"):
        await dns_resolver.resolve_handle("nobody.plyr-test.org")
    with pytest.raises(HandleNotFound, match="no valid did= line"):
        await dns_resolver.resolve_handle("bad.plyr-test.org")


async def test_dns_timeout_is_unavailable(
    dns_resolver: IdentityResolver, dns_answers: dict[str, Any]
) -> None:
    dns_answers["_atproto.slow.plyr-test.org"] = dns.exception.Timeout()  # type: ignore[no-untyped-call]
    with pytest.raises(IdentityUnavailable, match="DNS"):
        await dns_resolver.resolve_handle("slow.plyr-test.org")


async def test_https_host_on_a_private_address_is_refused(
    dns_resolver: IdentityResolver,
    dns_answers: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def private(host: str, port: int) -> list[str]:
        return ["10.20.30.40"]

    monkeypatch.setattr(netguard, "resolve_addresses", private)
    with pytest.raises(IdentityBlocked, match=r"10\.20\.30\.40"):
        await dns_resolver.resolve_handle("intranet.plyr-test.org")
