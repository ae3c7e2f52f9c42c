"""Identity resolution against the real local network (PLC + PDS) and small local servers.

The reference PLC directory and PDS answer for the accounts alice.test, bob.test and
carol.test. Handles and did:web documents the network cannot express (a handle that
points at someone else's DID, a document without a PDS, a server that never answers)
come from `LocalServer`, reached through the resolver's development-network hooks.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.resolver
import pytest

from plyr.atproto import netguard
from plyr.atproto.devnet import Network
from plyr.atproto.identity import (
    DidNotFound,
    HandleMismatch,
    HandleNotFound,
    IdentityBlocked,
    IdentityError,
    IdentityResolver,
    IdentityUnavailable,
    InvalidDid,
    InvalidDidDocument,
    InvalidHandle,
    parse_did_document,
)
from plyr.atproto.netguard import BlockedAddress
from plyr.config import Settings
from tests.conftest import make_settings
from tests.support.local_http import LocalServer

DB = "sqlite+aiosqlite:///:memory:"
WELL_KNOWN_DID = "/.well-known/atproto-did"
DID_JSON = "/.well-known/did.json"
UNKNOWN_PLC = "did:plc:" + "a" * 24


def settings_for(tmp_path: Path, plc_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "plc_url": plc_url,
        "atproto_dev_network": True,
        "identity_timeout_seconds": 3.0,
    }
    values.update(overrides)
    return make_settings(tmp_path, DB, **values)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def did_web(server: LocalServer) -> str:
    return f"did:web:localhost%3A{server.port}"


def document(
    did: str,
    handles: list[str],
    *,
    pds: str | None = "http://localhost:2583",
    service_id: str = "#atproto_pds",
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": did,
        "alsoKnownAs": [f"at://{handle}" for handle in handles],
        "verificationMethod": [
            {
                "id": f"{did}#atproto",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF",
            }
        ],
        "service": [],
    }
    if pds is not None:
        doc["service"].append(
            {"id": service_id, "type": "AtprotoPersonalDataServer", "serviceEndpoint": pds}
        )
    return doc


def serve_document(server: LocalServer, doc: dict[str, Any]) -> None:
    server.route(
        DID_JSON, body=json.dumps(doc).encode(), headers={"Content-Type": "application/json"}
    )


def serve_handle(server: LocalServer, handle: str, did: str) -> None:
    server.route(WELL_KNOWN_DID, host=handle, body=f"{did}\n".encode())


@pytest.fixture
async def resolver(atproto_net: Network, tmp_path: Path) -> AsyncIterator[IdentityResolver]:
    """Resolves through the real network (.test handles through its PDS)."""
    settings = settings_for(tmp_path, atproto_net.plc_url, atproto_dev_pds_url=atproto_net.pds_url)
    async with IdentityResolver(settings) as resolver:
        yield resolver


@pytest.fixture
async def web_resolver(
    atproto_net: Network, server: LocalServer, tmp_path: Path
) -> AsyncIterator[IdentityResolver]:
    """Real PLC and PDS; .test handles the PDS does not know are asked of `server`."""
    settings = settings_for(tmp_path, atproto_net.plc_url, atproto_dev_pds_url=atproto_net.pds_url)
    async with IdentityResolver(settings, dev_well_known_base=server.url) as resolver:
        yield resolver


# ---------------------------------------------------------------------------------------
# the real network


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


# ---------------------------------------------------------------------------------------
# input checks (no network)


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


# ---------------------------------------------------------------------------------------
# did:web and handles served by a local server


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


# ---------------------------------------------------------------------------------------
# failures of the servers


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


# ---------------------------------------------------------------------------------------
# caching


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


# ---------------------------------------------------------------------------------------
# DNS (the resolver's answers are faked; HTTPS lookups of the made-up hosts fail offline)


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


# ---------------------------------------------------------------------------------------
# parsing


def test_document_parsing_accepts_both_service_id_forms() -> None:
    did = "did:plc:" + "c" * 24
    for service_id in ("#atproto_pds", f"{did}#atproto_pds"):
        doc = parse_did_document(
            did,
            document(
                did,
                ["Mixed.Case.org", "bad handle"],
                pds="https://pds.example/",
                service_id=service_id,
            ),
        )
        assert doc.pds_url == "https://pds.example"
        assert doc.handles == ("mixed.case.org",)
    doc = parse_did_document(
        did, document(did, [], service_id=f"{did}#atproto_pds"), allow_http_pds=True
    )
    assert doc.handle is None
    assert doc.pds_url == "http://localhost:2583"


def test_document_parsing_wants_https_outside_development() -> None:
    did = "did:plc:" + "c" * 24
    with pytest.raises(InvalidDidDocument, match="https"):
        parse_did_document(did, document(did, [], pds="http://pds.example"))
    with pytest.raises(InvalidDidDocument, match="credentials"):
        parse_did_document(did, document(did, [], pds="https://u:p@pds.example"))
    with pytest.raises(InvalidDidDocument, match="not a JSON object"):
        parse_did_document(did, ["not", "an", "object"])
