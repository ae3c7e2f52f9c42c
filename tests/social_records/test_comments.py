"""Timed comments as records in the PDS: post, edit, delete, and comments turned off."""

from __future__ import annotations

from typing import Any

import pytest

from plyr.atproto.devnet import Network
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn
from tests.support.social_records import gone, record_when, ref, set_preferences

pytestmark = pytest.mark.browser


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
