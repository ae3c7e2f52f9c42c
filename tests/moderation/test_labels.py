"""Labels from plyr's labeler, on SQLite and PostgreSQL, against a running plyr whose labeler
identity lives on the real local network: issued and negated; served by queryLabels
(patterns, sources, cursor, limit) and every signature checked by @atproto/crypto in Node
against the key of the DID document it resolves from the PLC itself; followed over
subscribeLabels by the `atproto` SDK's label stream client (replay, live, negations, labels
from another process); bad input refused with a 400 that changes nothing; sensitive artwork
labelled through the CLI as its own process."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from atproto_firehose import FirehoseSubscribeLabelsClient, parse_subscribe_labels_message
from atproto_subscription.exceptions import SubscriptionError
from sqlalchemy import func, select

from plyr.atproto import dagcbor
from plyr.atproto.devnet import Network
from plyr.atproto.repo import RepoClient
from plyr.atproto.tid import next_tid
from plyr.atproto.xrpc import PasswordSession, XrpcClient
from plyr.db.models import Artist, Label, PublishState, Track
from plyr.moderation import labels
from plyr.runtime import Runtime
from tests.support.cli import plyr_env, run_plyr
from tests.support.labeler import node_reference, serve_labeler
from tests.support.plyr_server import PlyrServer

QUERY = "/xrpc/com.atproto.label.queryLabels"


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    async for server in serve_labeler(atproto_net, db_url, tmp_path_factory.mktemp("labels")):
        yield server


def subject(did: str) -> str:
    return f"at://{did}/fm.plyr.track/{next_tid()}"


CID = dagcbor.record_cid({"title": "one"})
CID2 = dagcbor.record_cid({"title": "two"})


async def issue(runtime: Runtime, **fields: Any) -> Label | None:
    async with runtime.sessions() as db:
        row = await labels.issue(runtime, db, **fields)
        await db.commit()
    return row


async def label_count(runtime: Runtime) -> int:
    async with runtime.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(Label)) or 0)


async def query(plyr: PlyrServer, **params: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=plyr.url) as http:
        return await http.get(QUERY, params=params)


async def test_labels_are_issued_negated_and_queried(
    plyr: PlyrServer, atproto_net: Network
) -> None:
    runtime = plyr.runtime
    alice = atproto_net.account("alice.test").did
    bob = atproto_net.account("bob.test").did
    taken, copied, other = subject(alice), subject(alice), subject(bob)

    first = await issue(runtime, uri=taken, cid=CID, val=labels.TAKEDOWN)
    assert first is not None
    assert first.cid == CID
    assert not first.neg
    assert first.src == plyr.settings.labeler_did
    second = await issue(runtime, uri=copied, cid=CID2, val=labels.COPYRIGHT_VIOLATION)
    assert second is not None
    count = await label_count(runtime)
    # What already holds is not issued twice; a negation of what does not hold is nothing.
    again = await issue(runtime, uri=taken, cid=CID, val=labels.TAKEDOWN)
    assert again is not None
    assert again.seq == first.seq
    assert await issue(runtime, uri=other, cid=None, val=labels.TAKEDOWN, neg=True) is None
    assert await label_count(runtime) == count
    negation = await issue(runtime, uri=taken, cid=CID, val=labels.TAKEDOWN, neg=True)
    assert negation is not None
    assert negation.neg
    assert negation.seq > second.seq
    third = await issue(runtime, uri=other, cid=None, val=labels.SENSITIVE_ARTWORK)
    assert third is not None

    assert await labels.current_labels(runtime, taken) == []
    assert [row.seq for row in await labels.current_labels(runtime, copied)] == [second.seq]

    exact = (await query(plyr, uriPatterns=taken)).json()
    assert [(item["val"], item.get("neg", False)) for item in exact["labels"]] == [
        (labels.TAKEDOWN, False),
        (labels.TAKEDOWN, True),
    ]
    assert exact["labels"][0]["cid"] == CID
    assert exact["labels"][0]["uri"] == taken
    assert exact["labels"][0]["cts"].endswith("Z")
    assert exact["labels"][0]["ver"] == 1
    prefix = (await query(plyr, uriPatterns=f"at://{alice}/*")).json()
    assert [item["uri"] for item in prefix["labels"]] == [taken, copied, taken]
    both = (await query(plyr, uriPatterns=[f"at://{bob}/*", copied])).json()
    assert [item["uri"] for item in both["labels"]] == [copied, other]
    assert "cid" not in both["labels"][1]
    # `at://x/*` is a prefix, not a glob: `_` and `%` in it are literal.
    assert (await query(plyr, uriPatterns="at://did:plc:%/*")).json()["labels"] == []
    mine = plyr.settings.labeler_did
    assert (await query(plyr, uriPatterns="*", sources=mine)).json()["labels"]
    assert (await query(plyr, uriPatterns="*", sources="did:plc:someoneelse")).json() == {
        "labels": []
    }

    # Pages of one, following the cursor, give the same labels in the same order.
    everything = (await query(plyr, uriPatterns="*", limit=250)).json()["labels"]
    paged: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = (
            await query(plyr, uriPatterns="*", limit=1, **({"cursor": cursor} if cursor else {}))
        ).json()
        if not page["labels"]:
            break
        paged += page["labels"]
        cursor = page["cursor"]
    assert len(everything) == 4
    assert paged == everything

    # The reference checks every signature against the DID document's #atproto_label key.
    tampered = {**everything[0], "val": "something-else"}
    verdict = node_reference(
        {
            "op": "verify",
            "plc": atproto_net.plc_url,
            "did": mine,
            "labels": [*everything, tampered],
        }
    )
    assert verdict["results"] == [True, True, True, True, False]
    assert verdict["endpoint"] == plyr.url


BAD_QUERIES: list[tuple[dict[str, Any], str]] = [
    ({}, "uriPatterns is required"),
    ({"uriPatterns": "at://did:plc:abc/*/x"}, "* may only end"),
    ({"uriPatterns": "*at://"}, "* may only end"),
    ({"uriPatterns": "at://a**"}, "* may only end"),
    ({"uriPatterns": ""}, "uriPattern is 1 to"),
    ({"uriPatterns": "*", "cursor": "abc"}, "cursor"),
    ({"uriPatterns": "*", "cursor": "-1"}, "cursor"),
    ({"uriPatterns": "*", "cursor": "1e3"}, "cursor"),
    ({"uriPatterns": "*", "limit": "0"}, "limit"),
    ({"uriPatterns": "*", "limit": "251"}, "limit"),
    ({"uriPatterns": "*", "limit": "ten"}, "limit"),
    ({"uriPatterns": "*", "sources": "not a did"}, "sources"),
]


async def test_bad_queries_get_a_400_and_change_nothing(plyr: PlyrServer) -> None:
    await issue(plyr.runtime, uri=subject("did:plc:badqueries"), cid=None, val=labels.TAKEDOWN)
    before = await label_count(plyr.runtime)
    for params, message in BAD_QUERIES:
        response = await query(plyr, **params)
        assert response.status_code == 400, (params, response.text)
        body = response.json()
        assert body["error"] == "InvalidRequest", params
        assert message in body["message"], (params, body)
    # A stream with a malformed cursor is refused before the upgrade.
    ws_url = plyr.url.replace("http://", "ws://") + "/xrpc/com.atproto.label.subscribeLabels"
    for cursor in ("abc", "-5"):
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(f"{ws_url}?cursor={cursor}"):
                pass
        assert refused.value.response.status_code == 400
        assert b"InvalidRequest" in refused.value.response.body
    assert await label_count(plyr.runtime) == before


class StreamReader:
    """The atproto SDK's own label stream client, in a thread, collecting what it gets."""

    def __init__(self, plyr: PlyrServer, cursor: int | None) -> None:
        params = {"cursor": cursor} if cursor is not None else None
        base = plyr.url.replace("http://", "ws://") + "/xrpc"
        self.client = FirehoseSubscribeLabelsClient(params=params, base_uri=base)
        self.seen: list[tuple[int, dict[str, Any], float]] = []
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _on_message(self, message: Any) -> None:
        parsed = parse_subscribe_labels_message(message)
        for label in parsed.labels:
            fields = label.model_dump(exclude={"py_type"}, exclude_none=True)
            with self._lock:
                self.seen.append((parsed.seq, fields, time.monotonic()))

    def _run(self) -> None:
        try:
            self.client.start(self._on_message)
        except BaseException as exc:  # the test reads it
            self.error = exc

    def snapshot(self) -> list[tuple[int, dict[str, Any], float]]:
        with self._lock:
            return list(self.seen)

    async def wait_for(
        self, count: int, seconds: float = 10.0
    ) -> list[tuple[int, dict[str, Any], float]]:
        async with asyncio.timeout(seconds):
            while len(self.snapshot()) < count:
                assert self.error is None, self.error
                await asyncio.sleep(0.02)
        return self.snapshot()

    async def finished(self, seconds: float = 10.0) -> None:
        await asyncio.to_thread(self._thread.join, seconds)
        assert not self._thread.is_alive(), "the SDK client did not stop"

    async def stop(self) -> None:
        self.client.stop()
        await self.finished()


def as_json(fields: dict[str, Any]) -> dict[str, Any]:
    """A label the SDK decoded, in JSON form for the Node check."""
    sig = base64.b64encode(fields.pop("sig")).decode()
    return {**fields, "sig": {"$bytes": sig}}


async def test_the_sdk_replays_follows_and_sees_negations(
    plyr: PlyrServer, atproto_net: Network
) -> None:
    runtime = plyr.runtime
    carol = atproto_net.account("carol.test").did
    first, second = subject(carol), subject(carol)
    await issue(runtime, uri=first, cid=CID, val=labels.TAKEDOWN)
    await issue(runtime, uri=second, cid=CID2, val=labels.COPYRIGHT_VIOLATION)
    stored = await labels.since(runtime, 0, 1000)

    replay = StreamReader(plyr, cursor=0)
    live_only = StreamReader(plyr, cursor=None)
    seen = await replay.wait_for(len(stored))
    assert [seq for seq, _, _ in seen] == [row.seq for row in stored]
    await asyncio.sleep(0.6)  # the live-only client is connected and has had its chance
    assert live_only.snapshot() == []

    # Live, from this process: woken at once.
    issued_at = time.monotonic()
    live = await issue(runtime, uri=first, cid=CID, val=labels.COPYRIGHT_VIOLATION)
    assert live is not None
    seen = await replay.wait_for(len(stored) + 1)
    in_process_delay = seen[-1][2] - issued_at
    # From another process (its own engine: no wake-up): found by polling.
    other = Runtime.open(plyr.settings)
    try:
        issued_at = time.monotonic()
        await issue(other, uri=second, cid=CID2, val=labels.COPYRIGHT_VIOLATION, neg=True)
    finally:
        await other.close()
    seen = await replay.wait_for(len(stored) + 2)
    other_process_delay = seen[-1][2] - issued_at
    print(f"\n[labels] live delay: in process {in_process_delay * 1000:.0f} ms, "
          f"other process {other_process_delay * 1000:.0f} ms")  # fmt: skip
    assert in_process_delay < 0.3
    assert other_process_delay < labels.POLL_SECONDS + 0.6

    newest = await labels.since(runtime, 0, 1000)
    assert [seq for seq, _, _ in seen] == [row.seq for row in newest]
    last = seen[-1][1]
    assert last["neg"] is True
    assert last["uri"] == second
    assert last["val"] == "copyright-violation"
    followed = await live_only.wait_for(2)
    assert [seq for seq, _, _ in followed] == [row.seq for row in newest[-2:]]

    # Every label as the SDK decoded it verifies with the reference against the DID document.
    verdict = node_reference(
        {
            "op": "verify",
            "plc": atproto_net.plc_url,
            "did": plyr.settings.labeler_did,
            "labels": [as_json(dict(fields)) for _, fields, _ in seen],
        }
    )
    assert verdict["results"] == [True] * len(seen)
    await replay.stop()
    await live_only.stop()

    # A cursor past the newest label: the SDK gets the FutureCursor error frame.
    future = StreamReader(plyr, cursor=newest[-1].seq + 1000)
    await future.finished()
    assert isinstance(future.error, SubscriptionError)
    assert "FutureCursor" in str(future.error)


async def _published_track(plyr: PlyrServer, atproto_net: Network, image_key: str) -> Track:
    """A track row whose record really is in alice's repository."""
    account = atproto_net.account("alice.test")
    async with httpx.AsyncClient() as http:
        session = await PasswordSession.create(
            http, atproto_net.pds_url, account.handle, account.password
        )
        repo = RepoClient(XrpcClient(http, atproto_net.pds_url, session), account.did)
        rkey = next_tid()
        written = await repo.put_record(
            "fm.plyr.track", rkey, {"title": "art", "createdAt": "2026-01-01T00:00:00.000Z"}
        )
    async with plyr.runtime.sessions() as db:
        if await db.get(Artist, account.did) is None:
            db.add(Artist(did=account.did, handle=account.handle, pds_url=atproto_net.pds_url))
        track = Track(
            artist_did=account.did,
            title="art",
            artist_name="alice",
            file_type="mp3",
            content_hash=rkey,
            original_key=f"audio/{rkey}.mp3",
            image_key=image_key,
            rkey=rkey,
            atproto_uri=written.uri,
            atproto_cid=written.cid,
            publish_state=PublishState.published,
        )
        db.add(track)
        await db.commit()
    return track


async def test_sensitive_artwork_becomes_a_label_from_the_cli(
    plyr: PlyrServer, atproto_net: Network
) -> None:
    image = f"images/{next_tid()}.png"
    track = await _published_track(plyr, atproto_net, image)
    bystander = await _published_track(plyr, atproto_net, f"images/{next_tid()}.png")
    assert track.atproto_uri is not None
    assert bystander.atproto_uri is not None
    env = plyr_env(
        plyr.settings.data_dir,
        PLYR_DATABASE_URL=plyr.settings.effective_database_url,
        PLYR_LABELER_DID=str(plyr.settings.labeler_did),
        PLYR_SECRET_KEY="test-secret-key-not-for-production",
    )
    cwd = plyr.settings.data_dir.parent
    flagged = await run_plyr(
        "moderation", "flag-image", image, "--reason", "test", env=env, cwd=cwd
    )
    assert flagged.returncode == 0, flagged
    held = await labels.current_labels(plyr.runtime, track.atproto_uri)
    assert [(row.val, row.cid) for row in held] == [(labels.SENSITIVE_ARTWORK, track.atproto_cid)]
    assert await labels.current_labels(plyr.runtime, bystander.atproto_uri) == []
    count = await label_count(plyr.runtime)
    again = await run_plyr("moderation", "flag-image", image, env=env, cwd=cwd)
    assert again.returncode == 0, again
    assert await label_count(plyr.runtime) == count

    cleared = await run_plyr("moderation", "unflag-image", image, env=env, cwd=cwd)
    assert cleared.returncode == 0, cleared
    assert await labels.current_labels(plyr.runtime, track.atproto_uri) == []
    served = (await query(plyr, uriPatterns=track.atproto_uri)).json()["labels"]
    assert [item.get("neg", False) for item in served] == [False, True]
    assert all(item["cid"] == track.atproto_cid for item in served)
    verdict = node_reference(
        {
            "op": "verify",
            "plc": atproto_net.plc_url,
            "did": plyr.settings.labeler_did,
            "labels": served,
        }
    )
    assert verdict["results"] == [True, True]
