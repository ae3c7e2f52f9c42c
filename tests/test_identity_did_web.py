"""did:web documents and handles served by a local server, and how they are checked.

The PLC directory and PDS are the real local network's; `LocalServer` serves what the
network cannot express (a handle that points at someone else's DID, a document
without a PDS), reached through the resolver's development-network hooks.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from plyr.atproto.devnet import Network
from plyr.atproto.identity import (
    HandleMismatch,
    HandleNotFound,
    IdentityBlocked,
    IdentityResolver,
    IdentityUnavailable,
    InvalidDidDocument,
)
from tests.support.identity import (
    DID_JSON,
    UNKNOWN_PLC,
    WELL_KNOWN_DID,
    did_web,
    document,
    serve_document,
    serve_handle,
    settings_for,
)
from tests.support.local_http import LocalServer


@pytest.fixture
async def web_resolver(
    atproto_net: Network, server: LocalServer, tmp_path: Path
) -> AsyncIterator[IdentityResolver]:
    """Real PLC and PDS; .test handles the PDS does not know are asked of `server`."""
    settings = settings_for(tmp_path, atproto_net.plc_url, atproto_dev_pds_url=atproto_net.pds_url)
    async with IdentityResolver(settings, dev_well_known_base=server.url) as resolver:
        yield resolver


async def test_a_handle_pointing_at_someone_elses_did_is_a_mismatch(
    web_resolver: IdentityResolver, server: LocalServer, atproto_net: Network
) -> None:
    alice = atproto_net.account("alice.test")
    serve_handle(server, "impostor.test", alice.did)
    assert await web_resolver.resolve_handle("impostor.test") == alice.did
    with pytest.raises(HandleMismatch, match=r"impostor\.test"):
        await web_resolver.resolve("impostor.test")


async def test_a_did_claiming_a_handle_that_points_elsewhere_gets_no_handle(
    web_resolver: IdentityResolver, server: LocalServer, atproto_net: Network
) -> None:
    did = did_web(server)
    serve_document(server, document(did, ["alice.test"], pds=atproto_net.pds_url))
    identity = await web_resolver.resolve(did)
    assert identity.document.handle == "alice.test"
    assert identity.handle is None
    assert identity.display_handle == "handle.invalid"


async def test_did_web_with_a_pds_resolves_both_ways(
    web_resolver: IdentityResolver, server: LocalServer
) -> None:
    did = did_web(server)
    serve_document(server, document(did, ["web-user.test"], service_id=f"{did}#atproto_pds"))
    serve_handle(server, "web-user.test", did)
    identity = await web_resolver.resolve("web-user.test")
    assert identity.did == did
    assert identity.handle == "web-user.test"
    assert identity.pds_url == "http://localhost:2583"
    again = await web_resolver.resolve(did)
    assert again.handle == "web-user.test"


async def test_did_web_without_a_pds_is_an_invalid_document(
    web_resolver: IdentityResolver, server: LocalServer
) -> None:
    did = did_web(server)
    serve_document(server, document(did, ["no-pds.test"], pds=None))
    with pytest.raises(InvalidDidDocument, match="no PDS"):
        await web_resolver.resolve_did(did)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"id": "did:web:someone-else.example"}, "belongs to"),
        ({"alsoKnownAs": "at://x.test"}, "alsoKnownAs"),
        ({"service": [{"id": "#atproto_pds", "type": "Other", "serviceEndpoint": "x"}]}, "PDS"),
        (
            {
                "service": [
                    {
                        "id": "#atproto_pds",
                        "type": "AtprotoPersonalDataServer",
                        "serviceEndpoint": "ftp://pds.example",
                    }
                ]
            },
            "https",
        ),
    ],
)
async def test_broken_documents_are_invalid(
    web_resolver: IdentityResolver,
    server: LocalServer,
    change: dict[str, Any],
    problem: str,
) -> None:
    did = did_web(server)
    serve_document(server, {**document(did, ["broken.test"]), **change})
    with pytest.raises(InvalidDidDocument, match=problem):
        await web_resolver.resolve_did(did)


async def test_not_json_is_an_invalid_document(
    web_resolver: IdentityResolver, server: LocalServer
) -> None:
    server.route(DID_JSON, body=b"<html>hello</html>")
    with pytest.raises(InvalidDidDocument, match="JSON"):
        await web_resolver.resolve_did(did_web(server))


async def test_a_handle_whose_did_does_not_list_it_is_a_mismatch(
    web_resolver: IdentityResolver, server: LocalServer
) -> None:
    did = did_web(server)
    serve_document(server, document(did, ["someone-else.test"]))
    serve_handle(server, "mismatch.test", did)
    with pytest.raises(HandleMismatch) as caught:
        await web_resolver.resolve("mismatch.test")
    assert "mismatch.test" in caught.value.message
    identity = await web_resolver.resolve(did)  # by DID: the claimed handle is not ours
    assert identity.handle is None


async def test_well_known_content_is_checked(
    web_resolver: IdentityResolver, server: LocalServer
) -> None:
    server.route(WELL_KNOWN_DID, host="garbage.test", body=b"<html>not a did</html>")
    server.route(WELL_KNOWN_DID, host="huge.test", body=b"did:plc:" + b"a" * 10_000)
    server.route(WELL_KNOWN_DID, host="broken.test", status=503)
    with pytest.raises(HandleNotFound, match="does not hold a DID"):
        await web_resolver.resolve_handle("garbage.test")
    with pytest.raises(HandleNotFound, match="more than a DID"):
        await web_resolver.resolve_handle("huge.test")
    with pytest.raises(IdentityUnavailable, match="503"):
        await web_resolver.resolve_handle("broken.test")


async def test_redirects_are_followed_and_every_hop_is_guarded(
    web_resolver: IdentityResolver, server: LocalServer
) -> None:
    server.route(WELL_KNOWN_DID, host="hop.test", status=302, headers={"Location": "/moved"})
    server.route("/moved", body=UNKNOWN_PLC.encode())
    server.route(
        WELL_KNOWN_DID,
        host="sneaky.test",
        status=307,
        headers={"Location": "http://169.254.169.254/latest/meta-data/"},
    )
    assert await web_resolver.resolve_handle("hop.test") == UNKNOWN_PLC
    with pytest.raises(IdentityBlocked, match="link-local"):
        await web_resolver.resolve_handle("sneaky.test")


@pytest.mark.parametrize("chunked", [False, True])
async def test_oversized_documents_are_refused(
    server: LocalServer, tmp_path: Path, chunked: bool
) -> None:
    did = did_web(server)
    doc = document(did, ["big.test"])
    doc["padding"] = "x" * 5000
    server.route(DID_JSON, body=json.dumps(doc).encode(), chunked=chunked)
    settings = settings_for(tmp_path, server.url, identity_max_bytes=1024)
    async with IdentityResolver(settings) as resolver:
        with pytest.raises(InvalidDidDocument, match="larger than 1024 bytes"):
            await resolver.resolve_did(did)
