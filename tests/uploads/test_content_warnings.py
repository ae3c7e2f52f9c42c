"""Content warnings (self-labels, plyr.tracks.labels) through the API against the real PDS:
an upload's labels become the record's `com.atproto.label.defs#selfLabels` (read back with
getRecord, checked against the lexicons), an edit rewrites them, an unknown value changes
nothing; `sexual`/`porn` tracks stay out of the home feed and search for listeners who did
not opt in, but the artist page lists them and a direct link plays them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select

from plyr.atproto.devnet import Network
from plyr.db.models import Job, RateLimitHit, Track, Upload
from plyr.tracks.labels import SELF_LABELS_TYPE
from tests.support.audio import make_audio, make_image
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, public_record, upload, upload_published
from tests.support.uploads import follow_progress, stored_objects

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
async def no_rate_limits(plyr: PlyrServer) -> None:
    """The package's other uploads count against the hourly limit too."""
    async with plyr.runtime.sessions() as db:
        await db.execute(delete(RateLimitHit))
        await db.commit()


async def published(http: httpx.AsyncClient, track_id: int, after_cid: str | None) -> Any:
    """The track once its record was rewritten (a CID other than `after_cid`)."""
    async with asyncio.timeout(60):
        while True:
            track = (await http.get(f"/api/tracks/{track_id}")).json()
            if track["publish_state"] == "published" and track["cid"] != after_cid:
                return track
            await asyncio.sleep(0.1)


async def record_of(plyr: PlyrServer, net: Network, uri: str) -> dict[str, Any]:
    """The track's record from the PDS, valid against plyr's lexicons."""
    found = await public_record(net, uri)
    assert found is not None
    value: dict[str, Any] = found["value"]
    plyr.runtime.lexicons.validate_record(plyr.runtime.lexicons.collection("track"), value)
    return value


def labels(*values: str) -> dict[str, Any]:
    return {"$type": SELF_LABELS_TYPE, "values": [{"val": value} for value in values]}


async def test_labels_reach_the_record_and_follow_edits(
    plyr: PlyrServer, alice: SignedIn, atproto_net: Network, tmp_path: Path
) -> None:
    source = make_audio(tmp_path / "warned.mp3", "mp3", freq=611.3)
    async with alice.client(plyr) as http:
        # Any case, repeated or comma-separated: stored in plyr's order.
        track = await upload_published(
            http, source, title="warned at upload", self_labels="Nudity, sexual"
        )
        assert track["self_labels"] == ["sexual", "nudity"]
        record = await record_of(plyr, atproto_net, track["uri"])
        assert record["labels"] == labels("sexual", "nudity")

        edited = await http.patch(
            f"/api/tracks/{track['id']}", json={"self_labels": ["graphic-media"]}
        )
        assert edited.status_code == 200, edited.text
        assert edited.json()["self_labels"] == ["graphic-media"]
        track = await published(http, track["id"], track["cid"])
        record = await record_of(plyr, atproto_net, track["uri"])
        assert record["labels"] == labels("graphic-media")

        # Other fields alone leave the labels as they are.
        retitled = await http.patch(f"/api/tracks/{track['id']}", json={"title": "renamed"})
        assert retitled.json()["self_labels"] == ["graphic-media"]
        track = await published(http, track["id"], track["cid"])

        cleared = await http.patch(f"/api/tracks/{track['id']}", json={"self_labels": []})
        assert cleared.json()["self_labels"] == []
        track = await published(http, track["id"], track["cid"])
        record = await record_of(plyr, atproto_net, track["uri"])
        assert "labels" not in record
        assert record["title"] == "renamed"


async def test_an_unknown_label_is_refused_and_changes_nothing(
    plyr: PlyrServer, alice: SignedIn, atproto_net: Network, tmp_path: Path
) -> None:
    source = make_audio(tmp_path / "kept.mp3", "mp3", freq=613.7)
    async with alice.client(plyr) as http:
        track = await upload_published(http, source, title="kept as is", self_labels="porn")
        publishes = (
            select(func.count())
            .select_from(Job)
            .where(Job.kind == "track.publish", Job.payload["track_id"].as_integer() == track["id"])
        )
        async with plyr.runtime.sessions() as db:
            jobs = await db.scalar(publishes)

        refused = await http.patch(
            f"/api/tracks/{track['id']}",
            json={"title": "should not stick", "self_labels": ["porn", "spicy"]},
        )
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert "“spicy” is not a content warning" in error["message"]
        assert "sexual, porn, nudity, graphic-media" in error["message"]
        assert error["details"][0]["field"] == "self_labels"

        after = (await http.get(f"/api/tracks/{track['id']}")).json()
        assert (after["title"], after["self_labels"], after["cid"]) == (
            "kept as is",
            ["porn"],
            track["cid"],
        )
        async with plyr.runtime.sessions() as db:  # no publish job was queued
            assert await db.scalar(publishes) == jobs
        record = await record_of(plyr, atproto_net, track["uri"])
        assert record["labels"] == labels("porn")

        # An upload with one is refused at once: no upload row, nothing stored.
        objects = stored_objects(plyr)
        async with plyr.runtime.sessions() as db:
            uploads = await db.scalar(select(func.count()).select_from(Upload))
        other = make_audio(tmp_path / "refused.mp3", "mp3", freq=617.9)
        response = await upload(http, other, title="refused", self_labels="!no-unauthenticated")
        assert response.status_code == 422
        assert "is not a content warning" in response.json()["error"]["message"]
        async with plyr.runtime.sessions() as db:
            assert await db.scalar(select(func.count()).select_from(Upload)) == uploads
        assert stored_objects(plyr) == objects


async def test_values_of_other_clients_survive_an_edit(
    plyr: PlyrServer, alice: SignedIn, atproto_net: Network, tmp_path: Path
) -> None:
    """A value plyr does not offer, written by another client, may be sent back as read."""
    source = make_audio(tmp_path / "foreign.mp3", "mp3", freq=619.1)
    async with alice.client(plyr) as http:
        track = await upload_published(http, source, title="foreign label")
        async with plyr.runtime.sessions() as db:
            row = await db.get(Track, track["id"])
            assert row is not None
            row.self_labels = ["!no-unauthenticated"]
            await db.commit()
        kept = await http.patch(
            f"/api/tracks/{track['id']}", json={"self_labels": ["!no-unauthenticated", "sexual"]}
        )
        assert kept.status_code == 200, kept.text
        assert kept.json()["self_labels"] == ["sexual", "!no-unauthenticated"]
        track = await published(http, track["id"], track["cid"])
        record = await record_of(plyr, atproto_net, track["uri"])
        assert record["labels"] == labels("sexual", "!no-unauthenticated")
        page = await http.get(f"/tracks/{track['id']}", headers={"Accept": "text/html"})
        assert "content warning:</strong> sexually suggestive." in page.text  # no "!…" shown


# --- where labelled tracks are listed ----------------------------------------------------


@pytest.fixture
async def warned(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path
) -> AsyncIterator[dict[str, Any]]:
    """Alice's tracks: one labelled porn, one labelled nudity (which stays in feeds)."""
    async with alice.client(plyr) as http:
        explicit = await upload_published(
            http,
            make_audio(tmp_path / "explicit.mp3", "mp3", freq=623.3),
            title="velvet qxhour",
            self_labels="porn",
        )
        bare = await upload_published(
            http,
            make_audio(tmp_path / "bare.mp3", "mp3", freq=627.7),
            title="bare qxfield",
            self_labels="nudity",
        )
    yield {"explicit": explicit, "bare": bare}
    async with alice.client(plyr) as http:
        for track in (explicit, bare):
            await http.delete(f"/api/tracks/{track['id']}")


async def listed(http: httpx.AsyncClient, track_id: int) -> dict[str, bool]:
    """Where the track shows for this client: home, the search page, the search API."""
    home = (await http.get("/", headers={"Accept": "text/html"})).text
    page = (await http.get("/search", params={"q": "velvet qxhour"})).text
    found = (await http.get("/api/search", params={"q": "velvet qxhour", "type": "tracks"})).json()
    ids = {hit["id"] for group in found["groups"] for hit in group["hits"]}
    return {
        "home": f'href="/tracks/{track_id}"' in home,
        "search page": f'href="/tracks/{track_id}"' in page,
        "search api": str(track_id) in ids,
    }


async def test_sexual_tracks_stay_out_of_home_and_search_unless_opted_in(
    plyr: PlyrServer, alice: SignedIn, bob: SignedIn, warned: dict[str, Any]
) -> None:
    explicit, bare = warned["explicit"]["id"], warned["bare"]["id"]
    nowhere = {"home": False, "search page": False, "search api": False}
    everywhere = {"home": True, "search page": True, "search api": True}
    async with httpx.AsyncClient(base_url=plyr.url, follow_redirects=True) as anyone:
        assert await listed(anyone, explicit) == nowhere
        home = (await anyone.get("/", headers={"Accept": "text/html"})).text
        assert f'href="/tracks/{bare}"' in home  # nudity is a warning, not kept out
        assert "content warning:</span> nudity" in home  # the row's chip

        # The artist page lists it, with the chip; the direct link shows and plays it.
        artist = (await anyone.get(f"/artists/{alice.did}")).text
        assert f'href="/tracks/{explicit}"' in artist
        assert "content warning:</span> explicit sexual content" in artist
        page = await anyone.get(f"/tracks/{explicit}")
        assert page.status_code == 200
        assert "content warning:</strong> explicit sexual content." in page.text
        audio = await anyone.get(f"/audio/{explicit}")
        assert audio.status_code == 200
        assert len(audio.content) > 1000

    async with alice.client(plyr) as owner:  # her own always show
        assert await listed(owner, explicit) == everywhere
    async with bob.client(plyr) as listener:
        assert await listed(listener, explicit) == nowhere
        # Unblurred artwork is a switch of its own: it does not list warned tracks.
        await listener.patch("/api/preferences", json={"show_sensitive": True})
        try:
            assert await listed(listener, explicit) == nowhere
        finally:
            await listener.patch("/api/preferences", json={"show_sensitive": False})
        switched = await listener.patch("/api/preferences", json={"show_warned_tracks": True})
        assert switched.status_code == 200, switched.text
        try:
            assert await listed(listener, explicit) == everywhere
        finally:
            await listener.patch("/api/preferences", json={"show_warned_tracks": False})


async def test_labelled_artwork_is_blurred_except_for_its_artist(
    plyr: PlyrServer, alice: SignedIn, bob: SignedIn, tmp_path: Path
) -> None:
    art = make_image(tmp_path / "art.png", "png", (300, 300))
    async with alice.client(plyr) as http:
        accepted = await http.post(
            "/api/tracks",
            data={"title": "covered qxart", "self_labels": ["graphic-media"]},
            files={
                "file": ("art.mp3", make_audio(tmp_path / "a.mp3", "mp3", freq=631.1).read_bytes()),
                "image": ("art.png", art.read_bytes(), "image/png"),
            },
        )
        assert accepted.status_code == 202, accepted.text
        final = (await follow_progress(http, accepted.json()["progress_url"]))[-1]
        assert final["phase"] == "published", final
        track_id = final["track_id"]
        own = (await http.get(f"/tracks/{track_id}", headers={"Accept": "text/html"})).text
    async with httpx.AsyncClient(base_url=plyr.url) as anyone:
        theirs = (await anyone.get(f"/tracks/{track_id}")).text
    assert 'class="artwork warned-blur"' in theirs
    assert "show artwork" in theirs
    assert "its artwork is blurred until you show it" in theirs
    assert 'property="og:image"' not in theirs  # not in link previews either
    assert "warned-blur" not in own
    assert "you marked this track" in own
    async with bob.client(plyr) as listener:
        await listener.patch("/api/preferences", json={"show_sensitive": True})
        try:
            opted = await listener.get(f"/tracks/{track_id}", headers={"Accept": "text/html"})
            assert "warned-blur" not in opted.text
        finally:
            await listener.patch("/api/preferences", json={"show_sensitive": False})
