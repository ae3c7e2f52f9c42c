"""Playlists and albums as list records: lifecycle, order, albums from uploads, covers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from plyr.atproto.devnet import Network
from plyr.db.models import MusicList
from tests.support.audio import make_image
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn
from tests.support.social_records import ALBUM, gone, items_of, record_when, ref

pytestmark = pytest.mark.browser


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
