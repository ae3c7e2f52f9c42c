"""Likes, comments, lists and profiles end to end: plyr (web + worker) on loopback, users
signed in through the real PDS, every record read back from the PDS as another client
would and checked against the lexicons. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser
from sqlalchemy import select

from plyr.atproto.devnet import Network
from plyr.db.models import Like, MusicList, Preferences, RecordState
from tests.conftest import devnet_settings
from tests.support.audio import make_audio, make_image
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import (
    SignedIn,
    point_sessions_at,
    public_record,
    sign_in,
    upload_published,
)

pytestmark = pytest.mark.browser

ALBUM = "field notes"


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-social"),
        db_url,
        atproto_net,
        rate_limit_writes_per_minute=1000,
    )
    async with running_plyr(settings, worker=True) as server:
        yield server
    await clear_tables(server.runtime.engine)


@pytest.fixture(scope="module")
async def alice(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    return await sign_in(browser, plyr, atproto_net, "alice.test")


@pytest.fixture(scope="module")
async def bob(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    return await sign_in(browser, plyr, atproto_net, "bob.test")


@pytest.fixture(scope="module")
async def tracks(
    plyr: PlyrServer, alice: SignedIn, tmp_path_factory: pytest.TempPathFactory
) -> list[dict[str, Any]]:
    """Three published tracks of alice's; the first two on the album ALBUM."""
    folder = tmp_path_factory.mktemp("social-audio")
    async with alice.client(plyr) as http:
        uploaded = []
        for index in range(3):  # one at a time: their order is the album's order
            source = make_audio(folder / f"t{index}.mp3", "mp3", seconds=3, freq=300 + 40 * index)
            fields = {"title": f"social {index}"} | ({"album": ALBUM} if index < 2 else {})
            uploaded.append(await upload_published(http, source, **fields))
    return uploaded


# --- helpers -----------------------------------------------------------------------------


def ref(track: dict[str, Any]) -> dict[str, str]:
    return {"uri": track["uri"], "cid": track["cid"]}


def items_of(record: dict[str, Any]) -> list[dict[str, str]]:
    return [item["subject"] for item in record["value"]["items"]]


async def record_when(
    plyr: PlyrServer,
    net: Network,
    uri: str,
    check: Callable[[dict[str, Any]], bool] = lambda _: True,
    *,
    seconds: float = 30,
) -> dict[str, Any]:
    """Poll the PDS until the record exists and passes `check`; validate it."""
    record = None
    try:
        async with asyncio.timeout(seconds):
            while True:
                record = await public_record(net, uri)
                if record is not None and check(record):
                    break
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"{uri} never matched; last seen: {record}") from None
    collection = uri.split("/")[3]
    plyr.runtime.lexicons.validate_record(collection, record["value"])
    return record


async def gone(net: Network, uri: str, seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while True:
            if await public_record(net, uri) is None:
                return
            await asyncio.sleep(0.1)


async def set_preferences(plyr: PlyrServer, did: str, **values: Any) -> None:
    """Until the preferences page exists: write the row directly."""
    async with plyr.runtime.sessions() as db:
        row = await db.get(Preferences, did)
        if row is None:
            db.add(Preferences(did=did, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
        await db.commit()


# --- likes -------------------------------------------------------------------------------


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


# --- comments ----------------------------------------------------------------------------


async def test_comment_edit_delete(
    plyr: PlyrServer, bob: SignedIn, atproto_net: Network, tracks: list[dict[str, Any]]
) -> None:
    track = tracks[0]
    base = f"/api/tracks/{track['id']}/comments"
    async with bob.client(plyr) as http:
        made = await http.post(base, json={"text": "  that bassline  ", "timestamp_ms": 1500})
        assert made.status_code == 201, made.text
        comment = made.json()
        assert comment["text"] == "that bassline"
        assert comment["author"]["handle"] == "bob.test"
        record = await record_when(plyr, atproto_net, comment["uri"])
        value = record["value"]
        assert value["$type"] == plyr.runtime.lexicons.collection("comment")
        assert (value["text"], value["timestampMs"]) == ("that bassline", 1500)
        assert value["subject"] == ref(track)

        earlier = (await http.post(base, json={"text": "intro!", "timestamp_ms": 200})).json()
        listed = (await http.get(base)).json()
        assert [c["id"] for c in listed] == [earlier["id"], comment["id"]]  # by position
        summary = (await http.get(f"/api/tracks/{track['id']}/social")).json()
        assert summary["comments"] == 2

        edited = await http.patch(f"/api/comments/{comment['id']}", json={"text": "that bass!"})
        assert edited.status_code == 200, edited.text
        assert edited.json()["updated_at"] is not None
        record = await record_when(
            plyr, atproto_net, comment["uri"], lambda r: r["value"]["text"] == "that bass!"
        )
        assert "updatedAt" in record["value"]
        assert record["value"]["subject"] == ref(track)

        too_long = await http.post(base, json={"text": "x" * 1001, "timestamp_ms": 0})
        assert too_long.status_code == 422
        assert too_long.json()["error"]["code"] == "invalid_text"
        assert len((await http.get(base)).json()) == 2

        for made_id, uri in ((comment["id"], comment["uri"]), (earlier["id"], earlier["uri"])):
            assert (await http.delete(f"/api/comments/{made_id}")).status_code == 204
            await gone(atproto_net, uri)
        assert (await http.get(base)).json() == []
        assert (await http.delete(f"/api/comments/{comment['id']}")).status_code == 404


async def test_comments_turned_off(
    plyr: PlyrServer, bob: SignedIn, alice: SignedIn, tracks: list[dict[str, Any]]
) -> None:
    track = tracks[1]
    await set_preferences(plyr, alice.did, allow_comments=False)
    try:
        async with bob.client(plyr) as http:
            refused = await http.post(
                f"/api/tracks/{track['id']}/comments", json={"text": "hi", "timestamp_ms": 0}
            )
            assert refused.status_code == 403
            assert refused.json()["error"]["code"] == "comments_off"
            summary = (await http.get(f"/api/tracks/{track['id']}/social")).json()
            assert summary["comments_allowed"] is False
            assert summary["comments"] == 0
    finally:
        await set_preferences(plyr, alice.did, allow_comments=True)


# --- playlists and albums ----------------------------------------------------------------


async def test_playlist_lifecycle(
    plyr: PlyrServer, alice: SignedIn, atproto_net: Network, tracks: list[dict[str, Any]]
) -> None:
    refs = [ref(track) for track in tracks]
    async with alice.client(plyr) as http:
        made = await http.post(
            "/api/lists",
            json={
                "type": "playlist",
                "name": "late  night",
                "track_ids": [t["id"] for t in tracks],
            },
        )
        assert made.status_code == 201, made.text
        playlist = made.json()
        assert playlist["name"] == "late night"
        assert playlist["type"] == "playlist"
        assert [e["track"]["id"] for e in playlist["entries"]] == [t["id"] for t in tracks]
        uri = playlist["uri"]
        record = await record_when(plyr, atproto_net, uri)
        assert record["value"]["$type"] == plyr.runtime.lexicons.collection("list")
        assert record["value"]["listType"] == "playlist"
        assert record["value"]["name"] == "late night"
        assert items_of(record) == refs

        first, second, third = (e["item_id"] for e in playlist["entries"])
        order = f"/api/lists/{playlist['id']}/order"
        moved = await http.put(order, json={"item_ids": [third, first, second]})
        assert moved.status_code == 200, moved.text
        assert [e["item_id"] for e in moved.json()["entries"]] == [third, first, second]
        await record_when(
            plyr, atproto_net, uri, lambda r: items_of(r) == [refs[2], refs[0], refs[1]]
        )

        dropped = await http.delete(f"/api/lists/{playlist['id']}/items/{first}")
        assert dropped.status_code == 200
        assert [e["item_id"] for e in dropped.json()["entries"]] == [third, second]
        await record_when(plyr, atproto_net, uri, lambda r: items_of(r) == [refs[2], refs[1]])

        renamed = await http.patch(f"/api/lists/{playlist['id']}", json={"name": "early morning"})
        assert renamed.status_code == 200
        assert renamed.json()["name"] == "early morning"
        await record_when(
            plyr, atproto_net, uri, lambda r: r["value"].get("name") == "early morning"
        )

        mine = (await http.get("/api/lists", params={"type": "playlist"})).json()
        assert [(p["id"], p["item_count"]) for p in mine] == [(playlist["id"], 2)]

        assert (await http.delete(f"/api/lists/{playlist['id']}")).status_code == 204
        await gone(atproto_net, uri)
        assert (await http.get(f"/api/lists/{playlist['id']}")).status_code == 404


async def test_album_from_upload_field(
    plyr: PlyrServer,
    alice: SignedIn,
    bob: SignedIn,
    atproto_net: Network,
    tracks: list[dict[str, Any]],
) -> None:
    on_album = [ref(t) for t in tracks[:2]]
    async with alice.client(plyr) as http:
        (album,) = (await http.get("/api/lists", params={"type": "album"})).json()
        assert album["name"] == ALBUM
        assert album["item_count"] == 2
        await record_when(plyr, atproto_net, album["uri"], lambda r: items_of(r) == on_album)
        detail = (await http.get(f"/api/lists/{album['id']}")).json()
        first, second = (e["item_id"] for e in detail["entries"])

    async with bob.client(plyr) as http:  # someone else's album: no changes
        order = f"/api/lists/{album['id']}/order"
        assert (await http.put(order, json={"item_ids": [second, first]})).status_code == 403
        added = await http.post(
            f"/api/lists/{album['id']}/items", json={"track_id": tracks[2]["id"]}
        )
        assert added.status_code == 403
        assert (await http.get(f"/api/lists/{album['id']}")).json()["entries"] == detail["entries"]

    async with alice.client(plyr) as http:
        moved = await http.put(order, json={"item_ids": [second, first]})
        assert moved.status_code == 200, moved.text
        record = await record_when(
            plyr, atproto_net, album["uri"], lambda r: items_of(r) == on_album[::-1]
        )
        assert record["value"]["listType"] == "album"
        assert record["value"]["name"] == ALBUM


async def test_list_cover_and_its_files(
    plyr: PlyrServer, alice: SignedIn, bob: SignedIn, tmp_path: Path
) -> None:
    picture = make_image(tmp_path / "cover.png", "png", (600, 600))
    async with alice.client(plyr) as http:
        playlist = (
            await http.post("/api/lists", json={"type": "playlist", "name": "covered"})
        ).json()
        cover_url = f"/api/lists/{playlist['id']}/cover"
        async with bob.client(plyr) as other:
            refused = await other.post(cover_url, files={"image": ("c.png", picture.read_bytes())})
            assert refused.status_code == 403
        bad = await http.post(cover_url, files={"image": ("c.png", b"not an image at all")})
        assert bad.status_code == 415
        covered = await http.post(cover_url, files={"image": ("c.png", picture.read_bytes())})
        assert covered.status_code == 200, covered.text
        body = covered.json()
        image = await http.get(body["image_url"])
        assert image.status_code == 200
        assert image.headers["content-type"].startswith("image/")
        thumb = await http.get(body["thumbnail_url"])
        assert thumb.status_code == 200
        assert thumb.headers["content-type"] == "image/webp"
        async with plyr.runtime.sessions() as db:
            row = await db.get(MusicList, playlist["id"])
            assert row is not None
            keys = [row.image_key, row.thumbnail_key]
        assert (await http.delete(f"/api/lists/{playlist['id']}")).status_code == 204
    async with asyncio.timeout(10):  # nothing else uses these files: a job deletes them
        while True:
            if not any([await plyr.runtime.storage.stat(key) for key in keys if key]):
                break
            await asyncio.sleep(0.1)


# --- profiles ----------------------------------------------------------------------------


async def test_profile_bio(plyr: PlyrServer, alice: SignedIn, atproto_net: Network) -> None:
    async with alice.client(plyr) as http:
        saved = await http.put("/api/profile", json={"bio": "field recordings and synths"})
        assert saved.status_code == 200, saved.text
        collection = plyr.runtime.lexicons.collection("actor.profile")
        assert saved.json()["uri"] == f"at://{alice.did}/{collection}/self"
        record = await record_when(
            plyr,
            atproto_net,
            saved.json()["uri"],
            lambda r: r["value"].get("bio") == "field recordings and synths",
        )
        assert record["value"]["$type"] == collection
        too_long = await http.put("/api/profile", json={"bio": "é" * 300})
        assert too_long.status_code == 422
        shown = (await http.get("/api/profile/alice.test")).json()
        assert shown["bio"] == "field recordings and synths"
        assert (shown["handle"], shown["did"]) == ("alice.test", alice.did)
        assert (await http.get(f"/api/profile/{alice.did}")).json()["bio"] == shown["bio"]
        assert (await http.get("/api/profile/nobody.test")).status_code == 404


# --- ownership and bad input -------------------------------------------------------------


async def test_others_cannot_change_comments_or_playlists(
    plyr: PlyrServer,
    alice: SignedIn,
    bob: SignedIn,
    atproto_net: Network,
    tracks: list[dict[str, Any]],
) -> None:
    async with alice.client(plyr) as http:
        comment = (
            await http.post(
                f"/api/tracks/{tracks[0]['id']}/comments", json={"text": "mine", "timestamp_ms": 0}
            )
        ).json()
        playlist = (
            await http.post(
                "/api/lists",
                json={"type": "playlist", "name": "hers", "track_ids": [tracks[0]["id"]]},
            )
        ).json()
        await record_when(plyr, atproto_net, comment["uri"])
        await record_when(plyr, atproto_net, playlist["uri"], lambda r: len(items_of(r)) == 1)
    item = playlist["entries"][0]["item_id"]
    base = f"/api/lists/{playlist['id']}"
    async with bob.client(plyr) as http:
        attempts: list[tuple[str, str, Any]] = [
            ("PATCH", f"/api/comments/{comment['id']}", {"text": "bob was here"}),
            ("DELETE", f"/api/comments/{comment['id']}", None),
            ("PATCH", base, {"name": "bob's now"}),
            ("DELETE", base, None),
            ("PUT", f"{base}/order", {"item_ids": [item]}),
            ("POST", f"{base}/items", {"track_id": tracks[1]["id"]}),
            ("DELETE", f"{base}/items/{item}", None),
        ]
        for method, url, body in attempts:
            refused = await http.request(method, url, json=body)
            assert refused.status_code == 403, refused.text
            assert refused.json()["error"]["code"] == "forbidden"
    async with alice.client(plyr) as http:
        after = (await http.get(base)).json()
        assert after["name"] == "hers"
        assert after["entries"] == playlist["entries"]
        texts = [
            c["text"] for c in (await http.get(f"/api/tracks/{tracks[0]['id']}/comments")).json()
        ]
        assert texts == ["mine"]
        await asyncio.sleep(0.5)  # give a wrongly queued sync the time to show
        assert (await public_record(atproto_net, comment["uri"]) or {})["value"]["text"] == "mine"
        assert items_of(await public_record(atproto_net, playlist["uri"]) or {}) == [ref(tracks[0])]
        assert (await http.delete(f"/api/comments/{comment['id']}")).status_code == 204
        assert (await http.delete(base)).status_code == 204


async def test_bad_input(plyr: PlyrServer, alice: SignedIn, tracks: list[dict[str, Any]]) -> None:
    track_id = tracks[0]["id"]
    async with alice.client(plyr) as http:
        wrong = await http.post(
            f"/api/tracks/{track_id}/comments", json={"text": ["a"], "timestamp_ms": "soon"}
        )
        assert wrong.status_code == 422
        assert {d["field"] for d in wrong.json()["error"]["details"]} == {
            "body.text",
            "body.timestamp_ms",
        }
        assert (
            await http.post(
                f"/api/tracks/{track_id}/comments", json={"text": "x", "timestamp_ms": -1}
            )
        ).status_code == 422
        for body in (
            {"type": "mixtape", "name": "x"},
            {"type": "playlist", "name": "x", "track_ids": "all"},
            {"type": "playlist"},
            {"type": "liked", "name": "x"},
        ):
            assert (await http.post("/api/lists", json=body)).status_code == 422, body
        long_name = await http.post("/api/lists", json={"type": "playlist", "name": "n" * 65})
        assert long_name.status_code == 422  # the lexicon allows 64 graphemes
        assert (await http.get("/api/lists/abc")).status_code == 422
        assert (await http.get("/api/lists", params={"type": "mixtape"})).status_code == 422

        assert (await http.post("/api/tracks/987654/like")).status_code == 404
        assert (await http.get("/api/tracks/987654/social")).status_code == 404
        assert (
            await http.post("/api/tracks/987654/comments", json={"text": "hi", "timestamp_ms": 0})
        ).status_code == 404
        assert (await http.get("/api/lists/987654")).status_code == 404
        assert (
            await http.post("/api/lists/987654/items", json={"track_id": track_id})
        ).status_code == 404
        before = (await http.get("/api/lists", params={"type": "playlist"})).json()
        assert (
            await http.post(
                "/api/lists", json={"type": "playlist", "name": "ghosts", "track_ids": [987654]}
            )
        ).status_code == 404
        assert (await http.get("/api/lists", params={"type": "playlist"})).json() == before

        playlist = (
            await http.post(
                "/api/lists",
                json={"type": "playlist", "name": "two", "track_ids": [track_id, tracks[1]["id"]]},
            )
        ).json()
        first, second = (e["item_id"] for e in playlist["entries"])
        order = f"/api/lists/{playlist['id']}/order"
        for stale in ([first], [first, second, 987654], [second, second]):
            refused = await http.put(order, json={"item_ids": stale})
            assert refused.status_code == 409, stale
            assert refused.json()["error"]["code"] == "stale_order"
        unknown = await http.post(f"/api/lists/{playlist['id']}/items", json={"track_id": 987654})
        assert unknown.status_code == 404
        after = (await http.get(f"/api/lists/{playlist['id']}")).json()
        assert [e["item_id"] for e in after["entries"]] == [first, second]
        assert (await http.delete(f"/api/lists/{playlist['id']}")).status_code == 204

        no_csrf = await http.post(f"/api/tracks/{track_id}/like", headers={"X-CSRF-Token": ""})
        assert no_csrf.status_code == 403
        assert (await http.get(f"/api/tracks/{track_id}/social")).json()["liked"] is False


# --- tags --------------------------------------------------------------------------------


async def test_tag_counts(plyr: PlyrServer, alice: SignedIn, tracks: list[dict[str, Any]]) -> None:
    async with alice.client(plyr) as http:
        for track, tags in zip(tracks, (["ambient", "field"], ["ambient"], []), strict=True):
            edited = await http.patch(f"/api/tracks/{track['id']}", json={"tags": tags})
            assert edited.status_code == 200, edited.text
        counted = {row["name"]: row["tracks"] for row in (await http.get("/api/tags")).json()}
        assert counted["ambient"] == 2
        assert counted["field"] == 1
        assert (await http.get("/api/tags", params={"limit": 0})).status_code == 422
