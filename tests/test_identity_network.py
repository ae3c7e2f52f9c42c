"""Identity resolution against the real local network (PLC + PDS).

The reference PLC directory and PDS answer for the accounts alice.test, bob.test and
carol.test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plyr.atproto.devnet import Network
from plyr.atproto.identity import DidNotFound, HandleNotFound, IdentityResolver
from tests.support.identity import UNKNOWN_PLC, settings_for


@pytest.fixture
async def resolver(atproto_net: Network, tmp_path: Path) -> AsyncIterator[IdentityResolver]:
    """Resolves through the real network (.test handles through its PDS)."""
    settings = settings_for(tmp_path, atproto_net.plc_url, atproto_dev_pds_url=atproto_net.pds_url)
    async with IdentityResolver(settings) as resolver:
        yield resolver


async def test_handle_resolves_to_did_and_document(
    resolver: IdentityResolver, atproto_net: Network
) -> None:
    alice = atproto_net.account("alice.test")
    assert await resolver.resolve_handle("alice.test") == alice.did
    doc = await resolver.resolve_did(alice.did)
    assert doc.id == alice.did
    assert doc.pds_url == atproto_net.pds_url.rstrip("/")
    assert doc.pds_url.startswith("http://localhost:")
    assert "at://alice.test" in doc.also_known_as
    assert doc.handles == ("alice.test",)
    assert doc.handle == "alice.test"
    assert doc.signing_key is not None
    assert doc.signing_key.startswith("z")


async def test_resolve_by_handle(resolver: IdentityResolver, atproto_net: Network) -> None:
    bob = atproto_net.account("bob.test")
    identity = await resolver.resolve("  @Bob.TEST ")
    assert identity.did == bob.did
    assert identity.handle == "bob.test"
    assert identity.display_handle == "bob.test"
    assert identity.pds_url == atproto_net.pds_url.rstrip("/")
    assert identity.document.id == bob.did


async def test_resolve_by_did_verifies_the_handle(
    resolver: IdentityResolver, atproto_net: Network
) -> None:
    carol = atproto_net.account("carol.test")
    identity = await resolver.resolve(carol.did)
    assert identity.did == carol.did
    assert identity.handle == "carol.test"
    assert identity.pds_url == atproto_net.pds_url.rstrip("/")


async def test_unknown_handle_is_not_found(resolver: IdentityResolver) -> None:
    with pytest.raises(HandleNotFound) as caught:
        await resolver.resolve("nobody-here.test")
    assert "nobody-here.test" in caught.value.message
    assert not caught.value.retryable


async def test_unknown_did_is_not_found(resolver: IdentityResolver) -> None:
    with pytest.raises(DidNotFound):
        await resolver.resolve_did(UNKNOWN_PLC)
    with pytest.raises(DidNotFound):
        await resolver.resolve(UNKNOWN_PLC)
