"""Likes as records in the PDS: like and unlike, the liked list, privacy, a PDS that is away."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from plyr.atproto.devnet import Network
from plyr.db.models import Like, RecordState
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, point_sessions_at, public_record
from tests.support.social_records import gone, items_of, record_when, ref, set_preferences

pytestmark = pytest.mark.browser


async def test_like_and_unlike(
    plyr: PlyrServer, alice: SignedIn, atproto_net: Network, tracks: list[dict[str, Any]]
) -> None:
    track = tracks[0]
    async with alice.client(plyr) as http:
        liked = await http.post(f"/api/tracks/{track['id']}/like")
        assert liked.status_code == 200, liked.text
        body = liked.json()
        assert body["liked"] is True
        assert body["likes"] == 1
        assert body["record_state"] in {"pending", "published"}
        collection = plyr.runtime.lexicons.collection("like")
        assert body["uri"].startswith(f"at://{alice.did}/{collection}/")
        again = (await http.post(f"/api/tracks/{track['id']}/like")).json()
        assert again["uri"] == body["uri"]
        assert again["likes"] == 1

        record = await record_when(plyr, atproto_net, body["uri"])
        assert record["value"]["$type"] == collection
        assert record["value"]["subject"] == ref(track)

        (liked_list,) = (await http.get("/api/lists", params={"type": "liked"})).json()
        assert liked_list["type"] == "liked"
        assert liked_list["item_count"] == 1
        listed = await record_when(
            plyr, atproto_net, liked_list["uri"], lambda r: ref(track) in items_of(r)
        )
        assert listed["value"]["listType"] == "liked"

        summary = (await http.get(f"/api/tracks/{track['id']}/social")).json()
        assert summary == {
            "track_id": track["id"],
            "likes": 1,
            "liked": True,
            "comments": 0,
            "comments_allowed": True,
        }
        likers = (await http.get(f"/api/tracks/{track['id']}/likers")).json()
        assert [(p["did"], p["handle"]) for p in likers] == [(alice.did, "alice.test")]
        own = (await http.get("/api/users/alice.test/liked")).json()
        assert [t["id"] for t in own["tracks"]] == [track["id"]]

        unliked = await http.delete(f"/api/tracks/{track['id']}/like")
        assert unliked.status_code == 200
        assert unliked.json()["liked"] is False
        assert unliked.json()["likes"] == 0
        assert (await http.delete(f"/api/tracks/{track['id']}/like")).status_code == 200
        await gone(atproto_net, body["uri"])
        await record_when(
            plyr, atproto_net, liked_list["uri"], lambda r: ref(track) not in items_of(r)
        )
        summary = (await http.get(f"/api/tracks/{track['id']}/social")).json()
        assert summary["likes"] == 0
        assert summary["liked"] is False


async def test_liked_tracks_are_private_unless_shown(
    plyr: PlyrServer, alice: SignedIn, bob: SignedIn, tracks: list[dict[str, Any]]
) -> None:
    async with alice.client(plyr) as http:
        assert (await http.post(f"/api/tracks/{tracks[2]['id']}/like")).status_code == 200
    try:
        async with bob.client(plyr) as http:
            hidden = await http.get("/api/users/alice.test/liked")
            assert hidden.status_code == 404
            assert "private" in hidden.json()["error"]["message"]
            theirs = (await http.get("/api/lists", params={"did": "alice.test"})).json()
            assert "liked" not in {entry["type"] for entry in theirs}
            await set_preferences(plyr, alice.did, show_liked=True)
            shown = await http.get("/api/users/alice.test/liked")
            assert shown.status_code == 200
            assert [t["id"] for t in shown.json()["tracks"]] == [tracks[2]["id"]]
    finally:
        await set_preferences(plyr, alice.did, show_liked=False)
        async with alice.client(plyr) as http:
            await http.delete(f"/api/tracks/{tracks[2]['id']}/like")


async def test_pds_down_keeps_the_like_then_publishes_it(
    plyr: PlyrServer, alice: SignedIn, atproto_net: Network, tracks: list[dict[str, Any]]
) -> None:
    track = tracks[1]
    await point_sessions_at(plyr, alice.did, "http://127.0.0.1:9")  # nothing listens there
    try:
        async with alice.client(plyr) as http:
            liked = await http.post(f"/api/tracks/{track['id']}/like")
            assert liked.status_code == 200, liked.text
            uri = liked.json()["uri"]
            assert liked.json()["record_state"] == "pending"
        async with asyncio.timeout(10):  # the sync job has tried and failed at least once
            while True:
                async with plyr.runtime.sessions() as db:
                    row = await db.scalar(select(Like).where(Like.did == alice.did))
                assert row is not None
                assert row.record_state == RecordState.pending
                if row.record_error and "retrying" in row.record_error:
                    break
                await asyncio.sleep(0.1)
        assert await public_record(atproto_net, uri) is None
    finally:
        await point_sessions_at(plyr, alice.did, atproto_net.pds_url)
    record = await record_when(plyr, atproto_net, uri)
    assert record["value"]["subject"] == ref(track)
    async with asyncio.timeout(10):
        while row.record_state != RecordState.published:
            await asyncio.sleep(0.1)
            async with plyr.runtime.sessions() as db:
                row = await db.scalar(select(Like).where(Like.did == alice.did))
            assert row is not None
    assert (row.atproto_uri, row.atproto_cid) == (uri, record["cid"])
    async with alice.client(plyr) as http:
        await http.delete(f"/api/tracks/{track['id']}/like")
    await gone(atproto_net, uri)
