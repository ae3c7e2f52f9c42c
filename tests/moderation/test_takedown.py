"""Takedowns and hidden accounts, end to end: alice publishes through the local PDS, bob (the
operator, `PLYR_ADMIN_DIDS`) takes a track down or hides her account. The track leaves the
home page, her artist page, search (API and page), its tag page, its album, bob's playlist
and queue, and top tracks; its audio, artwork, API read and page answer 451 with the reason
(its artist still sees the page with the notice, the operator still hears it); its record
stays in her PDS. A restore brings everything back. A real plyr with its worker on SQLite
and PostgreSQL; the CLI runs as its own process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser
from sqlalchemy import select, update

from plyr.atproto.devnet import Network
from plyr.db.models import Artist, Label, ModerationEvent, Track
from tests.conftest import devnet_settings
from tests.moderation.admin_support import run_cli
from tests.moderation.review_support import takedown_seen_in_chromium
from tests.support.audio import make_audio
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, public_record, sign_in, upload_published

pytestmark = pytest.mark.browser

REASON = "matches a rights holder recording"
LABELER = "did:plc:takedowntestlabelerxx"


@dataclass
class Catalogue:
    track: dict[str, Any]  # alice's, tagged and on an album: what gets taken down
    other: dict[str, Any]  # alice's second track (stays up)
    bobs: dict[str, Any]  # bob's own track, which alice comments on
    album_id: int
    playlist_id: int  # bob's playlist holding alice's track
    comment_id: int  # alice's comment on bob's track


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-takedown"),
        db_url,
        atproto_net,
        admin_dids=[atproto_net.account("bob.test").did],
        # Labels are issued as this DID, signed with the key plyr makes in its data folder
        # (the labeler's own tests check the identity and the signatures).
        labeler_did=LABELER,
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
async def catalogue(
    plyr: PlyrServer, alice: SignedIn, bob: SignedIn, tmp_path_factory: pytest.TempPathFactory
) -> Catalogue:
    folder = tmp_path_factory.mktemp("takedown-audio")
    async with alice.client(plyr) as http:
        track = await upload_published(
            http,
            make_audio(folder / "a.mp3", "mp3", seconds=2.0, freq=330.0),
            title="quokka serenade",
            album="marsupial nights",
            tags="wombatcore",
        )
        other = await upload_published(
            http, make_audio(folder / "b.mp3", "mp3", seconds=2.0, freq=550.0), title="bilby"
        )
        albums = (await http.get("/api/lists", params={"did": alice.did, "type": "album"})).json()
    async with bob.client(plyr) as http:
        bobs = await upload_published(
            http, make_audio(folder / "c.mp3", "mp3", seconds=2.0, freq=770.0), title="bob tune"
        )
        made = await http.post(
            "/api/lists", json={"type": "playlist", "name": "bob mix", "track_ids": [track["id"]]}
        )
        assert made.status_code == 201, made.text
        queued = await http.put(
            "/api/queue",
            json={
                "revision": 0,
                "track_ids": [track["id"], other["id"]],
                "current": 0,
                "position_ms": 0,
            },
        )
        assert queued.status_code == 200, queued.text
    async with alice.client(plyr) as http:
        comment = await http.post(
            f"/api/tracks/{bobs['id']}/comments", json={"text": "nice one", "timestamp_ms": 0}
        )
        assert comment.status_code == 201, comment.text
    # Plays, so the tracks rank in top tracks (all time).
    async with plyr.runtime.sessions() as db:
        for track_id, plays in ((track["id"], 9), (other["id"], 3), (bobs["id"], 1)):
            await db.execute(update(Track).where(Track.id == track_id).values(play_count=plays))
        await db.commit()
    album = next(row for row in _items(albums) if row["name"] == "marsupial nights")
    return Catalogue(track, other, bobs, album["id"], made.json()["id"], comment.json()["id"])


def _items(body: Any) -> list[dict[str, Any]]:
    return list(body["lists"] if isinstance(body, dict) and "lists" in body else body)


async def _html(plyr: PlyrServer, path: str, user: SignedIn | None = None) -> httpx.Response:
    headers = {"Accept": "text/html"}
    if user is None:
        async with httpx.AsyncClient(base_url=plyr.url, headers=headers, timeout=30) as http:
            return await http.get(path)
    async with user.client(plyr) as http:
        return await http.get(path, headers=headers)


def _links(html: str, track_id: int) -> bool:
    return f'/tracks/{track_id}"' in html or f"/tracks/{track_id}?" in html


async def where_seen(plyr: PlyrServer, bob: SignedIn, c: Catalogue, track_id: int) -> set[str]:
    """Every place a listener meets tracks, and whether `track_id` is there."""
    seen: set[str] = set()
    if _links((await _html(plyr, "/")).text, track_id):
        seen.add("home")
    artist = await _html(plyr, "/artists/alice.test")
    if artist.status_code == 200 and _links(artist.text, track_id):
        seen.add("artist page")
    if _links((await _html(plyr, "/search?q=quokka+serenade")).text, track_id):
        seen.add("search page")
    if _links((await _html(plyr, "/tags/wombatcore")).text, track_id):
        seen.add("tag page")
    album = await _html(plyr, f"/albums/{c.album_id}")
    if album.status_code == 200 and _links(album.text, track_id):
        seen.add("album")
    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as http:
        found = (await http.get("/api/search", params={"q": "quokka serenade"})).json()
        hits = [hit["id"] for group in found["groups"] for hit in group["hits"]]
        if str(track_id) in hits:
            seen.add("search api")
        top = (await http.get("/api/tracks/top", params={"window": "all"})).json()
        if track_id in [row["track"]["id"] for row in top]:
            seen.add("top tracks")
        playlist = (await http.get(f"/api/lists/{c.playlist_id}")).json()
        if track_id in [(e["track"] or {}).get("id") for e in playlist["entries"]]:
            seen.add("playlist")
    async with bob.client(plyr) as http:
        queue = (await http.get("/api/queue")).json()
        if track_id in [t["id"] for t in queue["tracks"]]:
            seen.add("queue")
    return seen


async def labels_on(plyr: PlyrServer, uri: str) -> list[tuple[str, str | None, bool]]:
    async with plyr.runtime.sessions() as db:
        rows = await db.scalars(select(Label).where(Label.uri == uri).order_by(Label.seq))
        found = [(row.val, row.cid, row.neg) for row in rows]
        assert all(row.src == LABELER for row in await db.scalars(select(Label)))
    return found


EVERYWHERE = {
    "home",
    "artist page",
    "search page",
    "tag page",
    "album",
    "search api",
    "top tracks",
    "playlist",
    "queue",
}


async def test_a_taken_down_track_leaves_every_listing_and_answers_451(
    plyr: PlyrServer,
    alice: SignedIn,
    bob: SignedIn,
    catalogue: Catalogue,
    atproto_net: Network,
    browser: Browser,
) -> None:
    track_id = catalogue.track["id"]
    assert await where_seen(plyr, bob, catalogue, track_id) == EVERYWHERE

    async with bob.client(plyr) as http:
        done = await http.post(f"/api/admin/tracks/{track_id}/takedown", json={"reason": REASON})
    assert done.status_code == 200, done.text
    assert done.json() == {
        "track_id": track_id,
        "taken_down": True,
        "reason": REASON,
        "uri": catalogue.track["uri"],
    }

    assert await where_seen(plyr, bob, catalogue, track_id) == set()
    # The other track of hers is untouched.
    assert await where_seen(plyr, bob, catalogue, catalogue.other["id"]) >= {
        "home",
        "artist page",
        "top tracks",
        "queue",
    }

    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as anonymous:
        audio = await anonymous.get(f"/audio/{track_id}")
        assert audio.status_code == 451
        assert REASON in audio.text
        assert (await anonymous.get(f"/audio/{track_id}/download")).status_code == 451
        api = await anonymous.get(f"/api/tracks/{track_id}")
        assert api.status_code == 451
        assert api.json()["error"]["code"] == "unavailable_for_legal_reasons"
        assert REASON in api.json()["error"]["message"]
        embed = await anonymous.get(f"/embed/track/{track_id}")
        assert embed.status_code == 451
    page = await _html(plyr, f"/tracks/{track_id}")
    assert page.status_code == 451
    assert "text/html" in page.headers["content-type"]
    assert REASON in page.text
    # Its artist sees the page, with the notice, but cannot stream it either.
    own = await _html(plyr, f"/tracks/{track_id}", alice)
    assert own.status_code == 200
    assert 'id="takedown-notice"' in own.text
    assert REASON in own.text
    await takedown_seen_in_chromium(plyr, alice, browser, track_id, REASON)
    async with alice.client(plyr) as http:
        assert (await http.get(f"/audio/{track_id}")).status_code == 451
        mine = (await http.get(f"/api/tracks/{track_id}")).json()
        assert mine["taken_down"] is True
        assert mine["takedown_reason"] == REASON
    # The operator hears it, for review, and is told it is taken down.
    async with bob.client(plyr) as http:
        heard = await http.get(f"/audio/{track_id}")
        assert heard.status_code == 200
        assert heard.headers["x-plyr-taken-down"] == "1"
    # plyr never deletes the artist's record by itself.
    assert await public_record(atproto_net, catalogue.track["uri"]) is not None

    async with bob.client(plyr) as http:
        again = await http.post(f"/api/admin/tracks/{track_id}/takedown", json={"reason": "x"})
        assert again.status_code == 409
        restored = await http.post(f"/api/admin/tracks/{track_id}/restore")
    assert restored.status_code == 200, restored.text
    assert restored.json()["taken_down"] is False
    assert await where_seen(plyr, bob, catalogue, track_id) == EVERYWHERE
    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as anonymous:
        assert (await anonymous.get(f"/audio/{track_id}")).status_code == 200
        assert (await anonymous.get(f"/api/tracks/{track_id}")).status_code == 200

    async with plyr.runtime.sessions() as db:
        events = (
            await db.scalars(
                select(ModerationEvent).where(ModerationEvent.subject == f"track:{track_id}")
            )
        ).all()
    assert [(e.action, e.actor) for e in events] == [
        ("track.takedown", bob.did),
        ("track.restore", bob.did),
    ]
    assert events[0].detail["reason"] == REASON
    # A takedown label on the record's URI and CID, negated by the restore.
    assert await labels_on(plyr, catalogue.track["uri"]) == [
        ("takedown", catalogue.track["cid"], False),
        ("takedown", catalogue.track["cid"], True),
    ]


async def test_bad_input_gets_a_clear_4xx_and_changes_nothing(
    plyr: PlyrServer, alice: SignedIn, bob: SignedIn, catalogue: Catalogue
) -> None:
    track_id = catalogue.track["id"]

    async def state() -> tuple[Any, ...]:
        async with plyr.runtime.sessions() as db:
            track = await db.get(Track, track_id)
            artist = await db.get(Artist, alice.did)
            events = (await db.scalars(select(ModerationEvent.id))).all()
            assert track is not None
            assert artist is not None
            return track.taken_down_at, artist.hidden_at, len(events)

    before = await state()
    async with alice.client(plyr) as http:  # signed in, not an operator
        for path, body in (
            (f"/api/admin/tracks/{track_id}/takedown", {"reason": REASON}),
            (f"/api/admin/accounts/{alice.did}/hide", {"reason": REASON}),
        ):
            refused = await http.post(path, json=body)
            assert refused.status_code == 403, refused.text
            assert refused.json()["error"]["code"] == "not_admin"
        assert (await http.delete(f"/api/admin/tracks/{track_id}")).status_code == 403
    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as anonymous:
        refused = await anonymous.post(
            f"/api/admin/tracks/{track_id}/takedown", json={"reason": REASON}
        )
        assert refused.status_code == 401
    async with bob.client(plyr) as http:
        unknown = await http.post("/api/admin/tracks/999999999/takedown", json={"reason": REASON})
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "not_found"
        assert (await http.post("/api/admin/tracks/999999999/restore")).status_code == 404
        assert (await http.delete("/api/admin/tracks/999999999")).status_code == 404
        nobody = await http.post("/api/admin/accounts/nobody.test/hide", json={"reason": "x"})
        assert nobody.status_code == 404
        blank = await http.post(f"/api/admin/tracks/{track_id}/takedown", json={"reason": "  "})
        assert blank.status_code == 422
        missing = await http.post(f"/api/admin/tracks/{track_id}/takedown", json={})
        assert missing.status_code == 422
        not_down = await http.post(f"/api/admin/tracks/{track_id}/restore")
        assert not_down.status_code == 409
        forged = await http.post(
            f"/api/admin/tracks/{track_id}/takedown",
            json={"reason": REASON},
            headers={"X-CSRF-Token": ""},
        )
        assert forged.status_code == 403
    assert await state() == before


async def test_hiding_an_account_hides_all_its_content_until_unhidden(
    plyr: PlyrServer, alice: SignedIn, bob: SignedIn, catalogue: Catalogue, atproto_net: Network
) -> None:
    ids = [catalogue.track["id"], catalogue.other["id"]]

    async def comments_on_bobs() -> list[int]:
        async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as http:
            found = (await http.get(f"/api/tracks/{catalogue.bobs['id']}/comments")).json()
        return [c["id"] for c in found]

    async def artist_in_search() -> bool:
        async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as http:
            found = (await http.get("/api/search", params={"q": "alice.test"})).json()
        return alice.did in [h["id"] for g in found["groups"] for h in g["hits"]]

    assert catalogue.comment_id in await comments_on_bobs()
    assert await artist_in_search()
    async with bob.client(plyr) as http:
        hidden = await http.post(f"/api/admin/accounts/{alice.did}/hide", json={"reason": "spam"})
    assert hidden.status_code == 200, hidden.text
    assert hidden.json()["hidden"] is True

    for track_id in ids:
        assert await where_seen(plyr, bob, catalogue, track_id) == set()
        assert (await _html(plyr, f"/tracks/{track_id}")).status_code == 451
    assert (await _html(plyr, "/artists/alice.test")).status_code == 451
    assert (await _html(plyr, f"/albums/{catalogue.album_id}")).status_code == 451
    assert catalogue.comment_id not in await comments_on_bobs()
    assert not await artist_in_search()
    # Bob's own track is untouched; alice's records stay in her PDS.
    assert "home" in await where_seen(plyr, bob, catalogue, catalogue.bobs["id"])
    assert await public_record(atproto_net, catalogue.track["uri"]) is not None

    async with bob.client(plyr) as http:
        shown = await http.post(f"/api/admin/accounts/{alice.handle}/unhide")
    assert shown.status_code == 200, shown.text
    for track_id in ids:
        assert "home" in await where_seen(plyr, bob, catalogue, track_id)
    assert await where_seen(plyr, bob, catalogue, catalogue.track["id"]) == EVERYWHERE
    assert catalogue.comment_id in await comments_on_bobs()
    assert await artist_in_search()
    async with plyr.runtime.sessions() as db:
        actions = (
            await db.scalars(
                select(ModerationEvent.action).where(
                    ModerationEvent.subject == f"account:{alice.did}"
                )
            )
        ).all()
    assert list(actions) == ["account.hide", "account.unhide"]
    assert await labels_on(plyr, alice.did) == [("takedown", None, False), ("takedown", None, True)]


async def test_operators_take_down_and_restore_from_the_command_line(
    plyr: PlyrServer, bob: SignedIn, catalogue: Catalogue
) -> None:
    track_id = catalogue.other["id"]
    async with plyr.runtime.sessions() as db:
        uri = await db.scalar(select(Track.atproto_uri).where(Track.id == track_id))
    assert uri is not None
    # Named by its at:// URI, as delete-track accepts (and an id or URL below).
    code, out = await asyncio.to_thread(
        run_cli, plyr, "admin", "takedown", uri, "--reason", "a complaint"
    )
    assert code == 0, out
    assert f"took down track {track_id}" in out
    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as anonymous:
        assert (await anonymous.get(f"/audio/{track_id}")).status_code == 451
    assert "artist page" not in await where_seen(plyr, bob, catalogue, track_id)

    code, out = await asyncio.to_thread(
        run_cli, plyr, "admin", "takedown", str(track_id), "--reason", "again"
    )
    assert code == 1
    assert "already taken down" in out
    code, out = await asyncio.to_thread(
        run_cli, plyr, "admin", "restore", f"{plyr.url}/tracks/{track_id}"
    )
    assert code == 0, out
    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as anonymous:
        assert (await anonymous.get(f"/audio/{track_id}")).status_code == 200
    code, out = await asyncio.to_thread(run_cli, plyr, "admin", "restore", "999999999")
    assert code == 1
    assert "there is no track" in out
    code, out = await asyncio.to_thread(
        run_cli, plyr, "admin", "hide-account", "nobody.test", "--reason", "x"
    )
    assert code == 1
    assert "no artist" in out
    async with plyr.runtime.sessions() as db:
        events = (
            await db.scalars(
                select(ModerationEvent).where(ModerationEvent.subject == f"track:{track_id}")
            )
        ).all()
    assert [(e.action, e.actor) for e in events] == [
        ("track.takedown", "cli"),
        ("track.restore", "cli"),
    ]
