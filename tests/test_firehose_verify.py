"""Verified ingest: the follower checks every commit of plyr's namespace (signature by the
DID's key, ops against the partial tree, undoing them gives `prevData`) before anything is
indexed. The real PDS's commits verify; forged ones served over a real WebSocket are dropped
and logged and index nothing; a rotated key is followed by resolving the DID again."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

import plyr.handlers  # noqa: F401  (registers the indexers)
from plyr.atproto.dagcbor import CidLink
from plyr.atproto.devnet import Network
from plyr.atproto.firehose import FirehoseFollower, RecordEvent
from plyr.atproto.firehose_verify import (
    CommitRejected,
    IdentityKeys,
    check_ops,
    verify_commit_event,
)
from plyr.atproto.mst import root_of
from plyr.atproto.repo import Create, Delete, RepoClient
from plyr.atproto.repo_car import SignedCommit, read_car
from plyr.atproto.signatures import SigningKey
from plyr.atproto.tid import next_tid
from plyr.atproto.xrpc import PasswordSession, XrpcClient
from plyr.db.models import Profile
from plyr.ingest import build_follower
from plyr.runtime import Runtime
from tests.conftest import devnet_settings
from tests.support.car_files import block, write_car
from tests.support.databases import clear_tables
from tests.support.signed_repo import (
    FrameServer,
    SignedRepo,
    create_did,
    frame,
    frame_server,
    rotate_signing_key,
)

INTEROP = Path(__file__).parent / "fixtures" / "interop"
PROOFS = json.loads((INTEROP / "firehose" / "commit-proof-fixtures.json").read_text())


@pytest.mark.parametrize("case", PROOFS, ids=lambda c: c["comment"])
def test_commit_proof_fixtures_check_as_events(case: dict[str, Any]) -> None:
    """Each fixture as a sync v1.1 event: its proof blocks verify the ops, and any other
    prevData, or an op left out, is refused."""
    leaf = CidLink.from_str(case["leafValue"])
    adds, dels = set(case["adds"]), set(case["dels"])
    after_keys = (set(case["keys"]) | adds) - (dels - adds)
    nodes: dict[CidLink, bytes] = {}
    after = root_of([(k, leaf) for k in after_keys], nodes)
    proof = {CidLink.from_str(c): nodes[CidLink.from_str(c)] for c in case["blocksInProof"]}
    # The record's own bytes are not in the fixture; only its presence is checked here.
    blocks = {**proof, leaf: b"the record"}
    ops = [{"action": "create", "path": k, "cid": leaf} for k in sorted(adds - dels)]
    ops += [{"action": "delete", "path": k, "cid": None, "prev": leaf} for k in sorted(dels - adds)]
    ops += [{"action": "update", "path": k, "cid": leaf, "prev": leaf} for k in sorted(adds & dels)]
    commit = SignedCommit(
        "did:plc:fixture", 3, "3kabc", after, None, CidLink.from_str(case["rootAfterCommit"])
    )
    body = {"ops": ops, "prevData": CidLink.from_str(case["rootBeforeCommit"])}
    check_ops(body, blocks, commit)

    with pytest.raises(CommitRejected, match="previous tree"):
        check_ops({**body, "prevData": leaf}, blocks, commit)
    for left_out in range(len(ops)):
        with pytest.raises(CommitRejected):
            check_ops({**body, "ops": ops[:left_out] + ops[left_out + 1 :]}, blocks, commit)
    with pytest.raises(CommitRejected, match="does not hold"):
        check_ops({**body, "ops": [{**ops[0], "action": "create", "cid": after}]}, blocks, commit)


@pytest.fixture
async def net_runtime(
    atproto_net: Network, db_url: str, tmp_path: Path
) -> AsyncIterator[Callable[..., Runtime]]:
    """Runtimes that resolve identities on the local network (and an ingest URL if given)."""
    opened: list[Runtime] = []

    def open_runtime(**overrides: object) -> Runtime:
        settings = devnet_settings(tmp_path, db_url, atproto_net, jobs_enabled=False, **overrides)
        opened.append(Runtime.open(settings))
        return opened[-1]

    yield open_runtime
    for runtime in opened:
        await clear_tables(runtime.engine)
        await runtime.close()


class Collector:
    def __init__(self) -> None:
        self.events: list[RecordEvent] = []

    async def __call__(self, event: RecordEvent) -> None:
        self.events.append(event)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 15) -> None:
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - polling the database and the follower
            await asyncio.sleep(0.05)


async def running(follower: FirehoseFollower) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(follower.run(stop))
    assert follower.connected is not None
    await asyncio.wait_for(follower.connected.wait(), 15)
    return stop, task


class WrongKeys:
    """A key source that knows some other key for every DID."""

    def __init__(self) -> None:
        self.key = SigningKey.generate("secp256k1").did_key()

    async def current(self, did: str) -> str:
        return self.key

    async def refreshed(self, did: str) -> str | None:
        return None

    def forget(self, did: str) -> None:
        pass


async def test_the_real_pds_commits_verify(
    atproto_net: Network, net_runtime: Callable[..., Runtime]
) -> None:
    runtime = net_runtime()
    namespace = f"fm.plyrtest{secrets.token_hex(4)}"
    collection = f"{namespace}.note"
    verified, unverified = Collector(), Collector()
    follower = FirehoseFollower(
        atproto_net.pds_url,
        namespace,
        verified,
        runtime.sessions,
        keys=IdentityKeys(runtime.identity),
    )
    # The same stream checked against a wrong key: every commit fails its signature.
    wrong = FirehoseFollower(
        atproto_net.pds_url,
        namespace,
        unverified,
        runtime.sessions,
        source="wrong-keys",
        keys=WrongKeys(),
    )
    stops = [await running(follower), await running(wrong)]
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            account = atproto_net.account("bob.test")
            session = await PasswordSession.create(
                http, atproto_net.pds_url, account.handle, account.password
            )
            bob = RepoClient(XrpcClient(http, atproto_net.pds_url, session), session.did)
            first, second, third = next_tid(), next_tid(), next_tid()
            note = {"text": "hi", "createdAt": "2026-12-01T10:00:00.000Z"}
            await bob.put_record(collection, first, note)
            await bob.put_record(collection, first, {**note, "text": "edited"})
            await bob.apply_writes(
                [
                    Create(collection, second, note),
                    Create(collection, third, note),
                    Delete(collection, first),
                ]
            )
        await eventually(lambda: _at_least(verified, 5))
        assert [(e.action, e.rkey) for e in verified.events] == [
            ("create", first),
            ("update", first),
            ("create", second),
            ("create", third),
            ("delete", first),
        ]
        assert follower.commits_dropped == 0
        await eventually(lambda: _dropped(wrong, 3))
        assert unverified.events == []
    finally:
        for stop, task in stops:
            stop.set()
            await asyncio.wait_for(task, 10)


async def _at_least(collector: Collector, count: int) -> bool:
    return len(collector.events) >= count


async def _dropped(follower: FirehoseFollower, count: int) -> bool:
    return follower.commits_dropped >= count


async def _bio(runtime: Runtime, did: str) -> str | None:
    async with runtime.sessions() as db:
        return await db.scalar(select(Profile.bio).where(Profile.did == did))


def _profile(namespace: str, bio: str) -> dict[str, Any]:
    return {
        "$type": f"{namespace}.actor.profile",
        "bio": bio,
        "createdAt": "2026-12-01T10:00:00.000Z",
    }


async def _send(server: FrameServer, body: dict[str, Any]) -> None:
    await server.send(body["seq"], frame("#commit", body))


def _rewrite_car(body: dict[str, Any], extra: dict[CidLink, bytes]) -> bytes:
    car = read_car(body["blocks"])
    return write_car(car.roots, {**car.blocks, **extra})


async def test_forged_commits_are_dropped_logged_and_never_indexed(
    atproto_net: Network, net_runtime: Callable[..., Runtime], caplog: pytest.LogCaptureFixture
) -> None:
    async with frame_server() as server:
        own = await create_did(atproto_net.plc_url, SigningKey.generate(), server.url, "own.test")
        runtime = net_runtime(ingest_url=server.url)
        namespace = runtime.settings.atproto_namespace
        follower = build_follower(runtime)
        assert follower is not None
        repo = SignedRepo(own)
        profile, comment = f"{namespace}.actor.profile/self", f"{namespace}.comment/{next_tid()}"
        stop, task = await running(follower)
        try:
            await _send(server, repo.commit([("create", profile, _profile(namespace, "first"))]))
            await eventually(lambda: _is(runtime, own.did, "first"))

            def forged(bio: str, **options: Any) -> dict[str, Any]:
                return repo.commit(
                    [("update", profile, _profile(namespace, bio))], advance=False, **options
                )

            cases: list[tuple[dict[str, Any], str]] = []
            # Signed by someone else.
            cases.append(
                (forged("forged: another key", key=SigningKey.generate()), "bad signature")
            )
            # A record block changed under its CID.
            body = forged("forged: swapped")
            body["blocks"] = body["blocks"].replace(b"forged: swapped", b"forged: swapPed")
            cases.append((body, "fails its CID"))
            # The op names a record the signed tree does not hold (its block is there).
            body = forged("forged: the tree holds this")
            other_cid, other = block(
                {
                    "$type": f"{namespace}.actor.profile",
                    "bio": "forged: other",
                    "createdAt": "2026-12-01T10:00:00.000Z",
                }
            )
            body["blocks"] = _rewrite_car(body, {other_cid: other})
            body["ops"][0]["cid"] = other_cid
            cases.append((body, "does not hold"))
            # An op left out: the commit also wrote a comment the event does not show.
            body = repo.commit(
                [
                    ("update", profile, _profile(namespace, "forged: half the story")),
                    ("create", comment, {"$type": f"{namespace}.comment", "text": "x"}),
                ],
                advance=False,
            )
            body["ops"] = body["ops"][:1]
            cases.append((body, "previous tree"))
            # A delete the tree does not show.
            body = forged("forged: delete")
            body["ops"][0] = {
                "action": "delete",
                "path": profile,
                "cid": None,
                "prev": body["ops"][0]["prev"],
            }
            cases.append((body, "still holds"))
            # Another prevData.
            body = forged("forged: prevData")
            body["prevData"] = other_cid
            cases.append((body, "previous tree"))
            # A commit of this repository presented as another DID's.
            carol = atproto_net.account("carol.test").did
            body = forged("forged: someone else's")
            body["repo"] = carol
            cases.append((body, f"not {carol}"))

            with caplog.at_level(logging.WARNING, logger="plyr.atproto.firehose"):
                for body, _ in cases:
                    await _send(server, body)
                await _send(
                    server, repo.commit([("update", profile, _profile(namespace, "second"))])
                )
                await eventually(lambda: _is(runtime, own.did, "second"))
            assert follower.commits_dropped == len(cases)
            dropped = [
                r.getMessage() for r in caplog.records if "dropping commit" in r.getMessage()
            ]
            assert len(dropped) == len(cases)
            for message, (body, reason) in zip(dropped, cases, strict=True):
                assert f"seq {body['seq']} " in message
                assert body["repo"] in message
                assert reason in message
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)


async def _is(runtime: Runtime, did: str, bio: str) -> bool:
    current = await _bio(runtime, did)
    assert current is None or not current.startswith("forged"), current
    return current == bio


async def test_a_rotated_signing_key_is_followed(
    atproto_net: Network, net_runtime: Callable[..., Runtime]
) -> None:
    async with frame_server() as server:
        first_key = SigningKey.generate()
        own = await create_did(atproto_net.plc_url, first_key, server.url, "rotating.test")
        runtime = net_runtime(ingest_url=server.url)
        namespace = runtime.settings.atproto_namespace
        follower = build_follower(runtime)
        assert follower is not None
        repo = SignedRepo(own)
        profile = f"{namespace}.actor.profile/self"

        async def write(bio: str, **options: Any) -> None:
            await _send(
                server,
                repo.commit(
                    [("update" if repo.records else "create", profile, _profile(namespace, bio))],
                    **options,
                ),
            )

        stop, task = await running(follower)
        try:
            await write("one")
            await eventually(lambda: _is(runtime, own.did, "one"))

            # The key changes in the directory; no #identity event says so. The cached key
            # fails, the DID is resolved again, the new key verifies.
            await rotate_signing_key(atproto_net.plc_url, own, SigningKey.generate("secp256k1"))
            await write("two")
            await eventually(lambda: _is(runtime, own.did, "two"))

            # The old key no longer counts (the refresh is not repeated within a minute).
            await write("forged: the old key", key=first_key, advance=False)
            # Rotated again, still without an event: within the minute, not followed yet...
            await rotate_signing_key(atproto_net.plc_url, own, SigningKey.generate())
            await write("forged: too soon", advance=False)
            await eventually(lambda: _dropped(follower, 2))
            # ... until the #identity event says the identity changed.
            seq = repo.next_seq()
            await server.send(
                seq,
                frame(
                    "#identity", {"seq": seq, "did": own.did, "time": "2026-12-01T10:00:00.000Z"}
                ),
            )
            await write("three")
            await eventually(lambda: _is(runtime, own.did, "three"))
            assert follower.commits_dropped == 2
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)


async def test_events_that_cannot_be_checked_are_refused() -> None:
    body = {"repo": "did:plc:x", "commit": None, "blocks": b""}
    with pytest.raises(CommitRejected, match="names no commit"):
        await verify_commit_event(body, None)
    with pytest.raises(CommitRejected, match="tooBig"):
        await verify_commit_event({**body, "tooBig": True}, None)
    cid, data = block({"a": 1})
    car = write_car([cid], {cid: data})
    with pytest.raises(CommitRejected, match="root is not"):
        await verify_commit_event({**body, "commit": block({"b": 2})[0].raw, "blocks": car}, None)
    with pytest.raises(CommitRejected, match="is not a CID"):
        await verify_commit_event({**body, "commit": "bafy", "blocks": car}, None)
    # A commit block that is no commit.
    with pytest.raises(CommitRejected, match="unsupported commit version"):
        await verify_commit_event({**body, "commit": cid.raw, "blocks": car}, None)
