"""The resolver's cache: answers until they expire, misses briefly, failures never."""

from __future__ import annotations

from pathlib import Path

import pytest

from plyr.atproto.identity import DidNotFound, HandleNotFound, IdentityResolver, IdentityUnavailable
from tests.support.identity import (
    DID_JSON,
    UNKNOWN_PLC,
    WELL_KNOWN_DID,
    Clock,
    did_web,
    document,
    serve_document,
    serve_handle,
    settings_for,
)
from tests.support.local_http import LocalServer


async def test_answers_are_cached_until_they_expire(server: LocalServer, tmp_path: Path) -> None:
    did = did_web(server)
    serve_document(server, document(did, ["cached.test"]))
    serve_handle(server, "cached.test", did)
    clock = Clock()
    settings = settings_for(tmp_path, server.url, identity_cache_seconds=600)
    async with IdentityResolver(settings, dev_well_known_base=server.url, clock=clock) as resolver:
        first = await resolver.resolve("cached.test")
        assert (server.count(WELL_KNOWN_DID), server.count(DID_JSON)) == (1, 1)
        assert await resolver.resolve("cached.test") == first
        assert await resolver.resolve(did) == first
        assert (server.count(WELL_KNOWN_DID), server.count(DID_JSON)) == (1, 1)

        clock.now += 599
        await resolver.resolve("cached.test")
        assert (server.count(WELL_KNOWN_DID), server.count(DID_JSON)) == (1, 1)

        clock.now += 2  # past the TTL: both are fetched again
        await resolver.resolve("cached.test")
        assert (server.count(WELL_KNOWN_DID), server.count(DID_JSON)) == (2, 2)

        resolver.invalidate(did)  # the document and the handles pointing at it
        await resolver.resolve("cached.test")
        assert (server.count(WELL_KNOWN_DID), server.count(DID_JSON)) == (3, 3)

        resolver.invalidate("@Cached.Test")  # only the handle
        await resolver.resolve("cached.test")
        assert (server.count(WELL_KNOWN_DID), server.count(DID_JSON)) == (4, 3)


async def test_misses_are_cached_briefly(server: LocalServer, tmp_path: Path) -> None:
    clock = Clock()
    server.route(f"/{UNKNOWN_PLC}", status=404, body=b"{}")
    settings = settings_for(tmp_path, server.url, identity_cache_seconds=600)
    async with IdentityResolver(
        settings, dev_well_known_base=server.url, clock=clock, negative_cache_seconds=30
    ) as resolver:
        for _ in range(2):
            with pytest.raises(HandleNotFound):
                await resolver.resolve("ghost.test")
            with pytest.raises(DidNotFound):
                await resolver.resolve_did(UNKNOWN_PLC)
        assert server.count(WELL_KNOWN_DID) == 1
        assert server.count(f"/{UNKNOWN_PLC}") == 1

        serve_handle(server, "ghost.test", UNKNOWN_PLC)  # the handle appears
        clock.now += 31
        assert await resolver.resolve_handle("ghost.test") == UNKNOWN_PLC
        with pytest.raises(DidNotFound):
            await resolver.resolve_did(UNKNOWN_PLC)
        assert server.count(WELL_KNOWN_DID) == 2
        assert server.count(f"/{UNKNOWN_PLC}") == 2


async def test_failures_are_not_cached(server: LocalServer, tmp_path: Path) -> None:
    route = server.route(f"/{UNKNOWN_PLC}", status=503)
    async with IdentityResolver(settings_for(tmp_path, server.url)) as resolver:
        with pytest.raises(IdentityUnavailable):
            await resolver.resolve_did(UNKNOWN_PLC)
        route.status = 404
        with pytest.raises(DidNotFound):
            await resolver.resolve_did(UNKNOWN_PLC)
    assert server.count(f"/{UNKNOWN_PLC}") == 2


async def test_cache_size_is_bounded(server: LocalServer, tmp_path: Path) -> None:
    for index in range(5):
        serve_handle(server, f"user{index}.test", UNKNOWN_PLC)
    settings = settings_for(tmp_path, server.url)
    async with IdentityResolver(
        settings, dev_well_known_base=server.url, max_entries=3
    ) as resolver:
        for index in range(5):
            await resolver.resolve_handle(f"user{index}.test")
        await resolver.resolve_handle("user4.test")  # recent: still cached
        assert server.count(WELL_KNOWN_DID) == 5
        await resolver.resolve_handle("user0.test")  # evicted: fetched again
        assert server.count(WELL_KNOWN_DID) == 6


async def test_no_caching_when_the_ttl_is_zero(server: LocalServer, tmp_path: Path) -> None:
    serve_handle(server, "fresh.test", UNKNOWN_PLC)
    settings = settings_for(tmp_path, server.url, identity_cache_seconds=0)
    async with IdentityResolver(settings, dev_well_known_base=server.url) as resolver:
        await resolver.resolve_handle("fresh.test")
        await resolver.resolve_handle("fresh.test")
    assert server.count(WELL_KNOWN_DID) == 2
