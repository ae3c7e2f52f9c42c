"""What a takedown or a hidden account does to writes and to the objects behind a track: alice
publishes through the local PDS, bob (the operator) takes her track down or hides her.

A saved queue keeps the taken-down track's id (its listener is moved nowhere, a stale or a
read-then-written queue does not drop it) and gets it back on restore; likes, comments and
list entries naming it are refused (451, as its read answers) for everyone but its artist,
while taking them back out still works; a hidden account's lists and list covers answer
451; `/media/{key}` refuses reference recordings (404) and the objects of a taken-down
track (451) but to its artist and the operators. A real plyr with its worker, on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser
from sqlalchemy import func, select

from plyr.atproto.devnet import Network
from plyr.db.models import Comment, Like, ListItem, MusicList, Track
from plyr.storage.base import content_key
from tests.conftest import devnet_settings
from tests.support.audio import make_audio, make_image
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, sign_in, upload_published

pytestmark = pytest.mark.browser

REASON = "matches a rights holder recording"


@dataclass
class Catalogue:
    track: dict[str, Any]  # alice's, with artwork: what gets taken down
    other: dict[str, Any]  # alice's second track
    bobs: dict[str, Any]  # bob's own track
    album_id: int  # alice's album, with a cover
    playlist_id: int  # bob's playlist


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-takedown-writes"),
        db_url,
        atproto_net,
        admin_dids=[atproto_net.account("bob.test").did],
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
    folder = tmp_path_factory.mktemp("takedown-writes-audio")
    async with alice.client(plyr) as http:
        track = await upload_published(
            http,
            make_audio(folder / "a.mp3", "mp3", seconds=2.0, freq=330.0),
            title="quokka serenade",
            album="marsupial nights",
            image=make_image(folder / "a.png", "png"),
        )
        other = await upload_published(
            http, make_audio(folder / "b.mp3", "mp3", seconds=2.0, freq=550.0), title="bilby"
        )
        albums = (await http.get("/api/lists", params={"type": "album"})).json()
        album = next(row for row in albums if row["name"] == "marsupial nights")
        cover = make_image(folder / "cover.png", "png")
        covered = await http.post(
            f"/api/lists/{album['id']}/cover",
            params={"csrf_token": alice.csrf},
            files={"image": ("cover.png", cover.read_bytes(), "image/png")},
        )
        assert covered.status_code == 200, covered.text
    async with bob.client(plyr) as http:
        bobs = await upload_published(
            http, make_audio(folder / "c.mp3", "mp3", seconds=2.0, freq=770.0), title="bob tune"
        )
        made = await http.post("/api/lists", json={"type": "playlist", "name": "bob mix"})
        assert made.status_code == 201, made.text
    return Catalogue(track, other, bobs, album["id"], made.json()["id"])


async def _admin(plyr: PlyrServer, bob: SignedIn, path: str, reason: str = REASON) -> None:
    async with bob.client(plyr) as http:
        body = {"reason": reason} if path.endswith(("takedown", "hide")) else None
        done = await http.post(path, json=body)
    assert done.status_code == 200, done.text


async def test_a_saved_queue_keeps_a_taken_down_track_and_the_listener_in_place(
    plyr: PlyrServer, bob: SignedIn, catalogue: Catalogue
) -> None:
    t, o, b = catalogue.track["id"], catalogue.other["id"], catalogue.bobs["id"]

    def ids(state: dict[str, Any]) -> list[int]:
        return [track["id"] for track in state["tracks"]]

    async with bob.client(plyr) as http:
        saved = await http.put(
            "/api/queue", json={"revision": 0, "track_ids": [t, o, b], "current": 1}
        )
        assert saved.status_code == 200, saved.text
        await _admin(plyr, bob, f"/api/admin/tracks/{t}/takedown")
        # Read: the taken-down track is out, and the listener is still on `o`.
        read = (await http.get("/api/queue")).json()
        assert (ids(read), read["current"]) == ([o, b], 0)
        # A player still holding the old list writes it back, still on `o`.
        stale = await http.put(
            "/api/queue",
            json={"revision": read["revision"], "track_ids": [t, o, b], "current": 1},
        )
        assert stale.status_code == 200, stale.text
        assert (ids(stale.json()), stale.json()["current"]) == ([o, b], 0)
        # A client writes back what it read, moving on to `b`.
        moved = await http.put(
            "/api/queue",
            json={"revision": stale.json()["revision"], "track_ids": [o, b], "current": 1},
        )
        assert moved.status_code == 200, moved.text
        assert (ids(moved.json()), moved.json()["current"]) == ([o, b], 1)
        await _admin(plyr, bob, f"/api/admin/tracks/{t}/restore")
        back = (await http.get("/api/queue")).json()
    assert (ids(back), back["current"]) == ([t, o, b], 2)


async def _written(plyr: PlyrServer, did: str, track_id: int) -> tuple[int, int, int]:
    """A user's likes, comments and list entries of the track (their sync jobs are
    committed with them: no row, nothing goes to the PDS)."""
    async with plyr.runtime.sessions() as db:
        likes = await db.scalar(
            select(func.count(Like.id)).where(Like.did == did, Like.track_id == track_id)
        )
        comments = await db.scalar(
            select(func.count(Comment.id)).where(Comment.did == did, Comment.track_id == track_id)
        )
        items = await db.scalar(
            select(func.count(ListItem.id))
            .join(MusicList, MusicList.id == ListItem.list_id)
            .where(MusicList.did == did, ListItem.track_id == track_id)
        )
    return int(likes or 0), int(comments or 0), int(items or 0)


async def test_writes_naming_an_unavailable_track_are_refused_but_clean_up_works(
    plyr: PlyrServer, alice: SignedIn, bob: SignedIn, catalogue: Catalogue
) -> None:
    t, o = catalogue.track["id"], catalogue.other["id"]
    playlist = catalogue.playlist_id
    async with bob.client(plyr) as http:  # before: a like, a comment, a playlist entry
        assert (await http.post(f"/api/tracks/{t}/like")).status_code == 200
        said = await http.post(f"/api/tracks/{t}/comments", json={"text": "hi", "timestamp_ms": 0})
        assert said.status_code == 201, said.text
        added = await http.post(f"/api/lists/{playlist}/items", json={"track_id": t})
        assert added.status_code == 201, added.text
        item_id = added.json()["entries"][-1]["item_id"]
    await _admin(plyr, bob, f"/api/admin/tracks/{t}/takedown")

    async with bob.client(plyr) as http:
        # Cleaning up still works, and takes the like and the comment away.
        assert (await http.delete(f"/api/tracks/{t}/like")).status_code == 200
        assert (await http.delete(f"/api/comments/{said.json()['id']}")).status_code == 204
        removed = await http.delete(f"/api/lists/{playlist}/items/{item_id}")
        assert removed.status_code == 200, removed.text
        assert await _written(plyr, bob.did, t) == (0, 0, 0)
        # New writes naming it: 451 with the reason, as its read answers (bob is an operator:
        # that lets him see it, not write about it).
        for answer in (
            await http.post(f"/api/tracks/{t}/like"),
            await http.post(f"/api/tracks/{t}/comments", json={"text": "x", "timestamp_ms": 0}),
            await http.post(f"/api/lists/{playlist}/items", json={"track_id": t}),
            await http.post(
                "/api/lists", json={"type": "playlist", "name": "sneaky", "track_ids": [t]}
            ),
        ):
            assert answer.status_code == 451, answer.text
            assert answer.json()["error"]["code"] == "unavailable_for_legal_reasons"
            assert REASON in answer.json()["error"]["message"]
        # The page forms too: a failure notice, nothing written.
        form = {"op": "like"}
        liked = await http.post(f"/tracks/{t}/like", data=form, headers={"Accept": "text/html"})
        assert liked.status_code == 303
        assert "failed=" in liked.headers["location"]
        await http.post(f"/tracks/{t}/comments", data={"text": "x", "at": "0:00"})
        await http.post(f"/playlists/{playlist}/add", data={"track_id": str(t)})
        assert await _written(plyr, bob.did, t) == (0, 0, 0)
    # Its artist may still like and comment on her own track.
    async with alice.client(plyr) as http:
        assert (await http.post(f"/api/tracks/{t}/like")).status_code == 200
        mine = await http.post(f"/api/tracks/{t}/comments", json={"text": "me", "timestamp_ms": 0})
        assert mine.status_code == 201, mine.text
        assert (await http.delete(f"/api/tracks/{t}/like")).status_code == 200
        assert (await http.delete(f"/api/comments/{mine.json()['id']}")).status_code == 204
    await _admin(plyr, bob, f"/api/admin/tracks/{t}/restore")

    # A hidden account's tracks are refused the same way; unhidden, they take likes again.
    await _admin(plyr, bob, f"/api/admin/accounts/{alice.did}/hide", "spam")
    async with bob.client(plyr) as http:
        refused = await http.post(f"/api/tracks/{o}/like")
        assert refused.status_code == 451, refused.text
        await _admin(plyr, bob, f"/api/admin/accounts/{alice.did}/unhide")
        assert (await http.post(f"/api/tracks/{o}/like")).status_code == 200
        assert (await http.post(f"/api/tracks/{t}/like")).status_code == 200
        assert (await http.delete(f"/api/tracks/{o}/like")).status_code == 200
        assert (await http.delete(f"/api/tracks/{t}/like")).status_code == 200


async def test_a_hidden_accounts_lists_and_covers_answer_451(
    plyr: PlyrServer, alice: SignedIn, bob: SignedIn, catalogue: Catalogue
) -> None:
    album = catalogue.album_id

    async def answers(client: httpx.AsyncClient) -> list[int]:
        return [
            (await client.get("/api/lists", params={"did": alice.did})).status_code,
            (await client.get("/api/lists", params={"did": alice.handle})).status_code,
            (await client.get(f"/api/lists/{album}")).status_code,
            (await client.get(f"/lists/{album}/cover")).status_code,
            (await client.get(f"/lists/{album}/cover/thumb")).status_code,
        ]

    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as anonymous:
        assert await answers(anonymous) == [200] * 5
        await _admin(plyr, bob, f"/api/admin/accounts/{alice.did}/hide", "spam")
        assert await answers(anonymous) == [451] * 5
        listed = await anonymous.get("/api/lists", params={"did": alice.did})
        assert listed.json()["error"]["code"] == "unavailable_for_legal_reasons"
    # Her own and the operators' views stay.
    async with alice.client(plyr) as http:
        assert await answers(http) == [200] * 5
    async with bob.client(plyr) as http:
        assert await answers(http) == [200] * 5
    await _admin(plyr, bob, f"/api/admin/accounts/{alice.did}/unhide")
    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as anonymous:
        assert await answers(anonymous) == [200] * 5


async def test_media_by_key_refuses_references_and_taken_down_objects(
    plyr: PlyrServer, alice: SignedIn, bob: SignedIn, catalogue: Catalogue
) -> None:
    t = catalogue.track["id"]
    async with plyr.runtime.sessions() as db:
        track = await db.get(Track, t)
        assert track is not None
        assert track.stream_key
        assert track.image_key
        keys = [track.original_key, track.stream_key, track.image_key, track.thumbnail_key]
        other = await db.get(Track, catalogue.other["id"])
        assert other is not None
        other_key = other.stream_key or other.original_key

    # A reference recording, stored as the reference catalogue stores one.
    reference = content_key("references", "ab" * 32, "mp3")

    async def chunks() -> AsyncIterator[bytes]:
        yield b"ID3 reference audio"

    await plyr.runtime.storage.put(reference, chunks(), "audio/mpeg")

    async def status(client: httpx.AsyncClient, key: str | None) -> int:
        assert key is not None
        return (await client.get(f"/media/{key}")).status_code

    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as anonymous:
        assert [await status(anonymous, key) for key in keys] == [200] * 4
        assert await status(anonymous, reference) == 404
        await _admin(plyr, bob, f"/api/admin/tracks/{t}/takedown")
        refused = await anonymous.get(f"/media/{keys[1]}")
        assert refused.status_code == 451
        assert REASON in refused.text
        assert [await status(anonymous, key) for key in keys] == [451] * 4
        assert await status(anonymous, other_key) == 200  # her other track is untouched
    async with alice.client(plyr) as http:
        assert [await status(http, key) for key in keys] == [200] * 4
        assert await status(http, reference) == 404
    async with bob.client(plyr) as http:
        assert [await status(http, key) for key in keys] == [200] * 4
        assert await status(http, reference) == 404  # operators hear it via its own route
    await _admin(plyr, bob, f"/api/admin/tracks/{t}/restore")
    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as anonymous:
        assert [await status(anonymous, key) for key in keys] == [200] * 4
        await _admin(plyr, bob, f"/api/admin/accounts/{alice.did}/hide", "spam")
        assert [await status(anonymous, key) for key in keys] == [451] * 4
        assert await status(anonymous, other_key) == 451
        await _admin(plyr, bob, f"/api/admin/accounts/{alice.did}/unhide")
        assert await status(anonymous, other_key) == 200
