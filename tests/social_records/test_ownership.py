"""Others cannot change one's comments or playlists, and bad input is refused."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from plyr.atproto.devnet import Network
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, public_record
from tests.support.social_records import items_of, record_when, ref

pytestmark = pytest.mark.browser


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
