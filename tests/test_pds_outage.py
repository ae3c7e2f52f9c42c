"""The user's PDS really stops (its process ends) and comes back: what plyr accepted while
it was down is kept and reaches the PDS when it returns. The network here is this module's
own, so stopping it leaves the shared one alone; SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser
from sqlalchemy import func, select

from plyr.atproto.devnet import Network, start_network
from plyr.db.models import (
    Comment,
    Like,
    ListType,
    MusicList,
    Profile,
    PublishState,
    RecordState,
    Track,
)
from tests.conftest import devnet_settings
from tests.support.audio import make_audio
from tests.support.databases import clear_tables
from tests.support.jobs import jobs_retried, jobs_settled, last_job_id
from tests.support.pds_records import list_records
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import (
    SignedIn,
    public_record,
    sign_in,
    upload,
    upload_published,
)
from tests.support.ports import free_port

pytestmark = pytest.mark.browser
ACCOUNTS = (("dana.test", "dana-test-password"),)
# Attempts every waiting write makes against the stopped PDS: with the test's 0.5 s backoff
# cap about 6 s; with the default backoff (2 s doubling to 10 min) that is over an hour.
OUTAGE_ATTEMPTS = 12


class Restartable:
    """A PLC + PDS whose process can be stopped and started again on the same ports and
    data folder (the PDS keeps its repos and keys; PLC its operations)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ports = {"plc_port": free_port(), "pds_port": free_port()}
        self.net: Network = self._start()

    def _start(self) -> Network:
        return start_network(self.folder, accounts=ACCOUNTS, **self.ports)

    def stop(self) -> None:
        self.net.stop()

    def restart(self) -> None:
        self.net = self._start()


@pytest.fixture(scope="module")
def outage_net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restartable]:
    network = Restartable(tmp_path_factory.mktemp("outage-net"))
    try:
        yield network
    finally:
        network.stop()


@pytest.fixture(scope="module")
async def plyr(
    outage_net: Restartable, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-outage"),
        db_url,
        outage_net.net,
    )
    async with running_plyr(settings, worker=True) as server:
        yield server
    await clear_tables(server.runtime.engine)


@pytest.fixture(scope="module")
async def dana(browser: Browser, plyr: PlyrServer, outage_net: Restartable) -> SignedIn:
    return await sign_in(browser, plyr, outage_net.net, "dana.test")


async def _row_state(plyr: PlyrServer, model: Any, row_id: int) -> tuple[Any, str | None]:
    async with plyr.runtime.sessions() as db:
        row = await db.get(model, row_id)
        assert row is not None, "the row must be kept while the PDS is down"
        return row.record_state, row.record_error


async def test_a_like_and_a_comment_made_while_the_pds_is_down_arrive_when_it_returns(
    plyr: PlyrServer, dana: SignedIn, outage_net: Restartable, tmp_path: Path
) -> None:
    source = make_audio(tmp_path / "weather.mp3", "mp3", seconds=3, freq=610)
    async with dana.client(plyr) as http:
        track = await upload_published(http, source, title="weather")

    outage_net.stop()
    try:
        async with dana.client(plyr) as http:
            liked = await http.post(f"/api/tracks/{track['id']}/like")
            said = await http.post(
                f"/api/tracks/{track['id']}/comments",
                json={"text": "said while it was down", "timestamp_ms": 500},
            )
        assert liked.status_code == 200, liked.text
        assert liked.json()["record_state"] == "pending"
        assert said.status_code == 201, said.text
        async with plyr.runtime.sessions() as db:
            like_id = await db.scalar(select(Like.id).where(Like.did == dana.did))
        assert like_id is not None
        comment_id = said.json()["id"]
        # The sync job keeps trying and says why; nothing is lost or marked failed.
        async with asyncio.timeout(20):
            while True:
                state, error = await _row_state(plyr, Like, like_id)
                if error and error.endswith("retrying"):
                    break
                await asyncio.sleep(0.2)
        assert state == RecordState.pending
        await asyncio.sleep(2)  # several failed attempts later, still pending
        assert (await _row_state(plyr, Like, like_id))[0] == RecordState.pending
        assert (await _row_state(plyr, Comment, comment_id))[0] == RecordState.pending
    finally:
        outage_net.restart()

    async with asyncio.timeout(60):
        while True:
            like_state, _ = await _row_state(plyr, Like, like_id)
            comment_state, _ = await _row_state(plyr, Comment, comment_id)
            if like_state == comment_state == RecordState.published:
                break
            await asyncio.sleep(0.2)
    async with plyr.runtime.sessions() as db:
        like = await db.get(Like, like_id)
        comment = await db.get(Comment, comment_id)
    assert like is not None
    assert comment is not None
    assert like.atproto_uri is not None
    assert comment.atproto_uri is not None
    like_record = await public_record(outage_net.net, like.atproto_uri)
    comment_record = await public_record(outage_net.net, comment.atproto_uri)
    assert like_record is not None
    assert comment_record is not None
    assert like_record["value"]["subject"] == {"uri": track["uri"], "cid": track["cid"]}
    assert comment_record["value"]["text"] == "said while it was down"
    plyr.runtime.lexicons.validate_record(like.atproto_uri.split("/")[3], like_record["value"])


class CountedActions:
    """User actions through plyr's API, each checked for its answer and counted."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.done: list[str] = []

    def check(self, what: str, response: httpx.Response, status: int) -> dict[str, Any]:
        assert response.status_code == status, f"{what}: {response.status_code} {response.text}"
        self.done.append(what)
        return dict(response.json()) if response.content else {}

    async def __call__(
        self, method: str, url: str, status: int = 200, **kwargs: Any
    ) -> dict[str, Any]:
        return self.check(f"{method} {url}", await self.http.request(method, url, **kwargs), status)


async def _track_id_of_upload(http: httpx.AsyncClient, upload_id: str) -> int:
    """The track an upload became (processing needs no PDS; publishing waits for it)."""
    async with asyncio.timeout(60):
        while True:
            status = (await http.get(f"/api/uploads/{upload_id}")).json()
            assert status["phase"] != "failed", status
            if status.get("track_id"):
                return int(status["track_id"])
            await asyncio.sleep(0.1)


async def _thirty_actions(
    actions: CountedActions, tracks: list[int], source: Path
) -> dict[str, Any]:
    """Likes, unlikes, comments and edits, playlists, the bio and an upload; what should
    be in the PDS afterwards (and what should not) is returned for the checks."""
    t1, t2, t3 = tracks
    await actions("POST", f"/api/tracks/{t1}/like")
    unliked = await actions("POST", f"/api/tracks/{t2}/like")
    await actions("DELETE", f"/api/tracks/{t2}/like")
    await actions("POST", f"/api/tracks/{t3}/like")

    def comment(track: int, text: str) -> Any:
        return actions("POST", f"/api/tracks/{track}/comments", 201, json={"text": text})

    c1 = await comment(t1, "first words")
    c2 = await comment(t1, "second words")
    c3 = await comment(t2, "words to take back")
    await actions("PATCH", f"/api/comments/{c1['id']}", json={"text": "first, edited"})
    await actions("PATCH", f"/api/comments/{c2['id']}", json={"text": "second, edited"})
    await actions("PATCH", f"/api/comments/{c1['id']}", json={"text": "first, edited twice"})
    await actions("DELETE", f"/api/comments/{c3['id']}", 204)
    c4 = await comment(t3, "on the third")

    road = await actions(
        "POST", "/api/lists", 201, json={"type": "playlist", "name": "road", "track_ids": [t1]}
    )
    for track in (t2, t3):
        road = await actions(
            "POST", f"/api/lists/{road['id']}/items", 201, json={"track_id": track}
        )
    item_of = {entry["track"]["id"]: entry["item_id"] for entry in road["entries"]}
    order = [item_of[t3], item_of[t1], item_of[t2]]
    await actions("PUT", f"/api/lists/{road['id']}/order", json={"item_ids": order})
    await actions("PATCH", f"/api/lists/{road['id']}", json={"name": "road, reordered"})
    spare = await actions("POST", "/api/lists", 201, json={"type": "playlist", "name": "spare"})
    await actions("POST", f"/api/lists/{spare['id']}/items", 201, json={"track_id": t1})
    await actions("PATCH", f"/api/lists/{spare['id']}", json={"name": "spare, renamed"})
    await actions("DELETE", f"/api/lists/{road['id']}/items/{item_of[t2]}")
    await actions("PUT", "/api/profile", json={"bio": "a first bio"})
    await actions("PUT", "/api/profile", json={"bio": "the bio that stays"})

    accepted = actions.check(
        "upload", await upload(actions.http, source, title="made offline"), 202
    )
    t4 = await _track_id_of_upload(actions.http, accepted["upload_id"])
    await actions("POST", f"/api/tracks/{t4}/like")
    c5 = await comment(t4, "on the offline one")
    road = await actions("POST", f"/api/lists/{road['id']}/items", 201, json={"track_id": t4})
    gone = await actions("POST", "/api/lists", 201, json={"type": "playlist", "name": "gone"})
    await actions("DELETE", f"/api/lists/{gone['id']}", 204)
    item_of = {entry["track"]["id"]: entry["item_id"] for entry in road["entries"]}
    final_order = [item_of[t4], item_of[t3], item_of[t1]]
    await actions("PUT", f"/api/lists/{road['id']}/order", json={"item_ids": final_order})
    return {
        "t4": t4,
        "liked": [t1, t3, t4],
        "comments": {
            c1["id"]: "first, edited twice",
            c2["id"]: "second, edited",
            c4["id"]: "on the third",
            c5["id"]: "on the offline one",
        },
        "lists": {
            road["id"]: ("road, reordered", [t4, t3, t1]),
            spare["id"]: ("spare, renamed", [t1]),
        },
        "absent": [unliked["uri"], c3["uri"], gone["uri"]],
    }


async def test_thirty_mixed_actions_while_the_pds_is_down_all_reach_it(
    plyr: PlyrServer, dana: SignedIn, outage_net: Restartable, tmp_path: Path
) -> None:
    async with dana.client(plyr) as http:
        tracks = [
            (
                await upload_published(
                    http, make_audio(tmp_path / f"{n}.mp3", "mp3", 3, freq), title=n
                )
            )
            for n, freq in (("one", 330), ("two", 440), ("three", 550))
        ]
    track_ids = [int(track["id"]) for track in tracks]
    offline_source = make_audio(tmp_path / "offline.flac", "flac", seconds=3, freq=660)
    before = await last_job_id(plyr.runtime.sessions)

    outage_net.stop()
    try:
        async with dana.client(plyr) as http:
            actions = CountedActions(http)
            expected = await _thirty_actions(actions, track_ids, offline_source)
        assert len(actions.done) == 30, actions.done
        # Accepted and kept, not yet anywhere but here.
        async with plyr.runtime.sessions() as db:
            waiting = await db.scalar(
                select(func.count(Comment.id)).where(
                    Comment.did == dana.did, Comment.record_state == RecordState.pending
                )
            )
        assert waiting == 4
        # A long outage: each write still waiting is refused many times before the PDS returns.
        await jobs_retried(plyr.runtime.sessions, before, attempts=OUTAGE_ATTEMPTS)
    finally:
        outage_net.restart()

    failed = await jobs_settled(plyr.runtime.sessions, before, seconds=120)
    assert failed == [], failed
    net = outage_net.net
    # What plyr holds now, read before looking at the PDS.
    async with plyr.runtime.sessions() as db:
        track_uris = dict(
            (
                await db.execute(
                    select(Track.id, Track.atproto_uri).where(Track.artist_did == dana.did)
                )
            ).all()
        )
        like_rows = (await db.execute(select(Like).where(Like.did == dana.did))).scalars().all()
        comment_rows = (
            (await db.execute(select(Comment).where(Comment.did == dana.did))).scalars().all()
        )
        list_rows = (
            (await db.execute(select(MusicList).where(MusicList.did == dana.did))).scalars().all()
        )
        profile = await db.scalar(select(Profile).where(Profile.did == dana.did))
        t4 = await db.get(Track, expected["t4"])
    assert t4 is not None
    assert t4.publish_state == PublishState.published
    rows = [*like_rows, *comment_rows, *list_rows, profile]
    assert all(row is not None and row.record_state == RecordState.published for row in rows)
    mine = {track_uris[track_id] for track_id in (*track_ids, expected["t4"])}

    collection = plyr.runtime.lexicons.collection
    my_likes = {
        row.atproto_uri: track_uris[row.track_id]
        for row in like_rows
        if track_uris[row.track_id] in mine
    }
    assert sorted(my_likes.values()) == sorted(track_uris[t] for t in expected["liked"])
    pds_likes = await list_records(net, dana.did, collection("like"))
    assert {
        uri: value["subject"]["uri"]
        for uri, value in pds_likes.items()
        if value["subject"]["uri"] in mine
    } == my_likes

    pds_comments = await list_records(net, dana.did, collection("comment"))
    on_mine = {uri: value for uri, value in pds_comments.items() if value["subject"]["uri"] in mine}
    by_id = {row.id: row for row in comment_rows}
    assert {uri: value["text"] for uri, value in on_mine.items()} == {
        by_id[comment_id].atproto_uri: text for comment_id, text in expected["comments"].items()
    }

    pds_lists = await list_records(net, dana.did, collection("list"))
    for list_id, (name, order) in expected["lists"].items():
        row = next(row for row in list_rows if row.id == list_id)
        value = pds_lists[row.atproto_uri]
        assert value["name"] == name
        assert [item["subject"]["uri"] for item in value["items"]] == [track_uris[t] for t in order]
    liked_list = next(row for row in list_rows if row.list_type == ListType.liked)
    liked_items = [item["subject"]["uri"] for item in pds_lists[liked_list.atproto_uri]["items"]]
    assert [uri for uri in liked_items if uri in mine] == [
        track_uris[t] for t in reversed(expected["liked"])
    ]

    assert profile is not None
    assert profile.atproto_uri is not None
    self_record = await public_record(net, profile.atproto_uri)
    assert self_record is not None
    assert self_record["value"]["bio"] == "the bio that stays"
    track_record = await public_record(net, track_uris[expected["t4"]])
    assert track_record is not None
    assert track_record["value"]["title"] == "made offline"
    for uri in expected["absent"]:
        assert await public_record(net, uri) is None, f"{uri} should have been deleted"
