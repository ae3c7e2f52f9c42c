"""Malformed handles and DIDs, and production rules, are refused before any request."""

from __future__ import annotations

from pathlib import Path

import dns.asyncresolver
import dns.exception
import dns.resolver
import pytest

from plyr.atproto.identity import (
    IdentityBlocked,
    IdentityError,
    IdentityResolver,
    InvalidDid,
    InvalidHandle,
)
from plyr.atproto.netguard import BlockedAddress
from tests.support.identity import UNKNOWN_PLC, did_web, settings_for
from tests.support.local_http import LocalServer


@pytest.mark.parametrize(
    "handle",
    [
        "",
        "   ",
        "alice",
        "-alice.test",
        "alice-.test",
        "alice..test",
        ".alice.test",
        "al ice.test",
        "alice_b.test",
        "ålice.test",
        "alice.123",
        "a" * 64 + ".test",
        ("a" * 60 + ".") * 5 + "test",
        "alice.local",
        "x.onion",
        "router.internal",
        "foo.localhost",
        "thing.arpa",
        "user.example",
        "nope.invalid",
        "at://alice.test",
        "alice.test/path",
    ],
)
async def test_malformed_handles_are_refused_without_network(
    handle: str, server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_dns(*args: object, **kwargs: object) -> None:
        raise AssertionError("DNS was queried")

    monkeypatch.setattr(dns.asyncresolver.Resolver, "resolve", no_dns)
    settings = settings_for(tmp_path, server.url, atproto_dev_pds_url=server.url)
    async with IdentityResolver(settings, dev_well_known_base=server.url) as resolver:
        with pytest.raises(InvalidHandle) as caught:
            await resolver.resolve(handle)
        with pytest.raises(InvalidHandle):
            await resolver.resolve_handle(handle)
    assert caught.value.message
    assert server.requests == []


@pytest.mark.parametrize(
    "did",
    [
        "did:plc:short",
        "did:plc:" + "A" * 24,
        "did:key:zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF",
        "did:web:example.com:path",
        "did:web:example.com%3A8443",
        "did:",
        "DID:plc:" + "a" * 24,
    ],
)
async def test_malformed_dids_are_refused_without_network(
    did: str, server: LocalServer, tmp_path: Path
) -> None:
    async with IdentityResolver(settings_for(tmp_path, server.url)) as resolver:
        with pytest.raises((InvalidDid, InvalidHandle)):
            await resolver.resolve_did(did)
        with pytest.raises((InvalidDid, InvalidHandle)):
            await resolver.resolve(did)
    assert server.requests == []


async def test_production_rules_without_the_dev_network(
    server: LocalServer, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, server.url, atproto_dev_network=False)
    with pytest.raises(ValueError, match="atproto_dev_network"):
        IdentityResolver(settings, dev_pds_url=server.url)
    async with IdentityResolver(settings) as resolver:
        with pytest.raises(InvalidHandle, match=r"\.test"):
            await resolver.resolve("alice.test")
        with pytest.raises(InvalidDid, match="port"):
            await resolver.resolve(did_web(server))
        # The configured PLC directory is on loopback: refused, before any connection.
        with pytest.raises(IdentityBlocked) as caught:
            await resolver.resolve_did(UNKNOWN_PLC)
    assert isinstance(caught.value, BlockedAddress)
    assert isinstance(caught.value, IdentityError)
    assert "loopback" in caught.value.message
    assert server.requests == []
