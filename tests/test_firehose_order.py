"""Commits in order: the follower drops a validly signed commit that is not newer than the
last one it verified of the repository (a relay replaying the create of a record deleted
since must not bring it back), a rev from the future, and a rev that is no TID. A record
nested too deep to decode is skipped and the stream goes on. Frames served over a real
WebSocket, keys on the local PLC directory; SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import plyr.handlers  # noqa: F401  (registers the indexers)
from plyr.atproto.devnet import Network
from plyr.atproto.firehose import FirehoseFollower
from plyr.atproto.firehose_verify import CommitRejected, Revisions, verify_commit_event
from plyr.atproto.signatures import SigningKey
from plyr.atproto.tid import next_tid, tid_from_time
from plyr.db.models import Profile, utcnow
from plyr.ingest import build_follower
from plyr.runtime import Runtime
from tests.conftest import devnet_settings
from tests.support.databases import clear_tables
from tests.support.signed_repo import (
    FrameServer,
    OwnDid,
    SignedRepo,
    create_did,
    frame,
    frame_server,
)


def _profile(namespace: str, bio: str) -> dict[str, Any]:
    return {
        "$type": f"{namespace}.actor.profile",
        "bio": bio,
        "createdAt": "2026-12-01T10:00:00.000Z",
    }


async def _bio(runtime: Runtime, did: str) -> str | None:
    async with runtime.sessions() as db:
        return await db.scalar(select(Profile.bio).where(Profile.did == did))


async def _eventually(check: Callable[[], Awaitable[bool]], within: float = 15) -> None:
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - polling the database
            await asyncio.sleep(0.05)


async def _following(
    atproto_net: Network, db_url: str, tmp_path: Path, server: FrameServer, handle: str
) -> tuple[Runtime, FirehoseFollower, OwnDid]:
    own = await create_did(atproto_net.plc_url, SigningKey.generate(), server.url, handle)
    settings = devnet_settings(
        tmp_path, db_url, atproto_net, jobs_enabled=False, ingest_url=server.url
    )
    runtime = Runtime.open(settings)
    follower = build_follower(runtime)
    assert follower is not None
    return runtime, follower, own


async def test_a_replayed_older_commit_is_dropped(
    atproto_net: Network, db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with frame_server() as server:
        runtime, follower, own = await _following(
            atproto_net, db_url, tmp_path, server, "replayed.test"
        )
        namespace = runtime.settings.atproto_namespace
        repo = SignedRepo(own)
        profile = f"{namespace}.actor.profile/self"
        stop = asyncio.Event()
        task = asyncio.create_task(follower.run(stop))
        try:
            created = repo.commit([("create", profile, _profile(namespace, "first"))])
            await server.send(created["seq"], frame("#commit", created))
            await _eventually(lambda: _has(runtime, own.did, "first"))
            deleted = repo.commit([("delete", profile, None)])
            await server.send(deleted["seq"], frame("#commit", deleted))
            await _eventually(lambda: _has(runtime, own.did, None))

            # The create again, as a relay replaying it would send it: signed, consistent
            # with its own tree, and older than the delete.
            replay = {**created, "seq": repo.next_seq()}
            with caplog.at_level(logging.WARNING, logger="plyr.atproto.firehose"):
                await server.send(replay["seq"], frame("#commit", replay))
                later = repo.commit([("create", profile, _profile(namespace, "after"))])
                await server.send(later["seq"], frame("#commit", later))
                await _eventually(lambda: _after_not_first(runtime, own.did))
            assert follower.commits_dropped == 1
            dropped = [r.getMessage() for r in caplog.records if "dropping" in r.getMessage()]
            assert len(dropped) == 1
            assert f"seq {replay['seq']} " in dropped[0]
            assert f"rev {created['rev']} is not newer than {deleted['rev']}" in dropped[0]
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            await clear_tables(runtime.engine)
            await runtime.close()


async def _has(runtime: Runtime, did: str, bio: str | None) -> bool:
    return await _bio(runtime, did) == bio


async def _after_not_first(runtime: Runtime, did: str) -> bool:
    """Polled once the profile is deleted: the replayed create must never show."""
    current = await _bio(runtime, did)
    assert current != "first", "the replayed create was indexed"
    return current == "after"


async def test_a_record_nested_too_deep_is_skipped_and_the_stream_goes_on(
    atproto_net: Network, db_url: str, tmp_path: Path
) -> None:
    async with frame_server() as server:
        runtime, follower, own = await _following(
            atproto_net, db_url, tmp_path, server, "deep.test"
        )
        namespace = runtime.settings.atproto_namespace
        repo = SignedRepo(own)
        stop = asyncio.Event()
        task = asyncio.create_task(follower.run(stop))
        try:
            # {"a": {"a": ... 5000 deep: canonical DAG-CBOR, deeper than any decoder goes.
            deep = b"\xa1\x61a" * 5000 + b"\x00"
            nested = repo.commit([("create", f"{namespace}.comment/{next_tid()}", deep)])
            await server.send(nested["seq"], frame("#commit", nested))
            fine = repo.commit(
                [("create", f"{namespace}.actor.profile/self", _profile(namespace, "fine"))]
            )
            await server.send(fine["seq"], frame("#commit", fine))
            await _eventually(lambda: _has(runtime, own.did, "fine"))
            assert not task.done()
            assert follower.commits_dropped == 0  # the commit holds; the record is skipped
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            await clear_tables(runtime.engine)
            await runtime.close()


async def test_revs_from_the_future_or_not_tids_are_refused() -> None:
    owner = OwnDid("did:plc:orderaaaaaaaaaaaaaaaaaaa", SigningKey.generate(), SigningKey.generate())
    repo = SignedRepo(owner)
    revisions = Revisions()
    path = "fm.plyr.actor.profile/self"
    record = {"$type": "fm.plyr.actor.profile", "createdAt": "2026-12-01T10:00:00.000Z"}

    ahead = tid_from_time(utcnow() + timedelta(hours=1))
    body = repo.commit([("create", path, record)], rev=ahead, advance=False)
    with pytest.raises(CommitRejected, match=f"rev {ahead} is in the future"):
        await verify_commit_event(body, None, revisions)
    body = repo.commit([("create", path, record)], rev="not-a-tid", advance=False)
    with pytest.raises(CommitRejected, match="is not a TID"):
        await verify_commit_event(body, None, revisions)

    # A little ahead (a PDS's clock running fast) passes; then nothing at or below it.
    soon = tid_from_time(utcnow() + timedelta(minutes=1))
    first = repo.commit([("create", path, record)], rev=soon)
    await verify_commit_event(first, None, revisions)
    with pytest.raises(CommitRejected, match="not newer"):
        await verify_commit_event(first, None, revisions)
    with pytest.raises(CommitRejected, match="not newer"):
        await verify_commit_event(repo.commit([("update", path, record)]), None, revisions)
    # Another repository has its own order; without `revisions` nothing is compared.
    other = SignedRepo(
        OwnDid("did:plc:orderbbbbbbbbbbbbbbbbbbb", owner.rotation_key, owner.signing_key)
    )
    await verify_commit_event(other.commit([("create", path, record)]), None, revisions)
    await verify_commit_event(first, None)
