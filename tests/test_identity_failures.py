"""Servers that fail, stall or drip: the resolver answers IdentityUnavailable or not-found."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from plyr.atproto.identity import DidNotFound, IdentityResolver, IdentityUnavailable
from tests.support.identity import DID_JSON, UNKNOWN_PLC, did_web, document, settings_for
from tests.support.local_http import LocalServer


async def test_a_server_that_never_answers_times_out(server: LocalServer, tmp_path: Path) -> None:
    server.route(DID_JSON, hang=True)
    server.route(f"/{UNKNOWN_PLC}", hang=True)
    settings = settings_for(tmp_path, server.url, identity_timeout_seconds=0.5)
    async with IdentityResolver(settings) as resolver:
        for did in (did_web(server), UNKNOWN_PLC):
            started = time.monotonic()
            with pytest.raises(IdentityUnavailable) as caught:
                await resolver.resolve_did(did)
            assert time.monotonic() - started < 1.5
            assert caught.value.retryable
            assert "0.5s" in caught.value.message


async def test_a_slow_drip_is_cut_off_at_the_timeout(server: LocalServer, tmp_path: Path) -> None:
    did = did_web(server)
    server.route(DID_JSON, body=json.dumps(document(did, ["slow.test"])).encode(), drip_seconds=0.1)
    settings = settings_for(tmp_path, server.url, identity_timeout_seconds=0.5)
    async with IdentityResolver(settings) as resolver:
        started = time.monotonic()
        with pytest.raises(IdentityUnavailable):
            await resolver.resolve_did(did)
    assert time.monotonic() - started < 1.5


async def test_unreachable_and_failing_directories_are_unavailable(
    server: LocalServer, silent_port: int, tmp_path: Path
) -> None:
    server.route(f"/{UNKNOWN_PLC}", status=502, body=b"bad gateway")
    async with IdentityResolver(settings_for(tmp_path, server.url)) as resolver:
        with pytest.raises(IdentityUnavailable, match="502"):
            await resolver.resolve_did(UNKNOWN_PLC)
    closed = server.url.rsplit(":", 1)[0] + ":1"  # nothing listens on port 1
    async with IdentityResolver(settings_for(tmp_path, closed)) as resolver:
        with pytest.raises(IdentityUnavailable):
            await resolver.resolve_did(UNKNOWN_PLC)


async def test_deleted_did_is_not_found(server: LocalServer, tmp_path: Path) -> None:
    server.route(f"/{UNKNOWN_PLC}", status=410, body=b"{}")
    async with IdentityResolver(settings_for(tmp_path, server.url)) as resolver:
        with pytest.raises(DidNotFound, match="deactivated or deleted"):
            await resolver.resolve_did(UNKNOWN_PLC)
