"""Deleting an account from the portal: with its records in the PDS or without, files only
that user stored removed, other users untouched, a mistyped handle deleting nothing. Runs
plyr (web + worker) against the real PDS on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser
from sqlalchemy import func, select

from plyr.atproto.devnet import Network
from plyr.db.models import (
    Artist,
    AuthSession,
    Comment,
    Job,
    JobStatus,
    Like,
    ListType,
    MusicList,
    Preferences,
    Profile,
    RecordState,
    Track,
    utcnow,
)
from plyr.jobs.queue import enqueue
from plyr.social import comments, likes, lists, profiles
from plyr.social.account import CANCELLED, COLLECTIONS
from plyr.social.preferences import update_preferences
from tests.conftest import devnet_settings
from tests.support.audio import make_audio, make_image
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, sign_in, upload_published

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-account-deletion"),
        db_url,
        atproto_net,
    )
    async with running_plyr(settings, worker=True) as server:
        yield server
    await clear_tables(server.runtime.engine)


@pytest.fixture(scope="module")
async def bob(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    return await sign_in(browser, plyr, atproto_net, "bob.test")


async def pds_records(net: Network, did: str, collection: str) -> list[dict[str, Any]]:
    """What any client sees in the user's repository (no auth)."""
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{net.pds_url}/xrpc/com.atproto.repo.listRecords",
            params={"repo": did, "collection": collection, "limit": 100},
        )
    response.raise_for_status()
    return list(response.json()["records"])


def stored(plyr: PlyrServer, key: str) -> bool:
    return (plyr.settings.effective_storage_local_dir / key).is_file()


async def count_for(plyr: PlyrServer, model: Any, column: Any, did: str) -> int:
    async with plyr.runtime.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(model).where(column == did)))


async def wait_published(plyr: PlyrServer, did: str) -> None:
    """Until every like, comment, list and profile of `did` is in their PDS."""
    async with asyncio.timeout(60):
        while True:
            async with plyr.runtime.sessions() as db:
                pending = 0
                for model in (Like, Comment, MusicList, Profile):
                    pending += int(
                        await db.scalar(
                            select(func.count())
                            .select_from(model)
                            .where(model.did == did, model.record_state != RecordState.published)
                        )
                    )
            if pending == 0:
                return
            await asyncio.sleep(0.2)


async def delete_from_portal(
    user: SignedIn, plyr: PlyrServer, handle: str, *, also_records: bool
) -> httpx.Response:
    data = {"csrf_token": user.csrf, "confirm_handle": handle}
    if also_records:
        data["also_records"] = "on"
    async with user.client(plyr) as http:
        return await http.post("/portal/delete-account", data=data, headers={"Accept": "text/html"})


async def test_a_mistyped_handle_deletes_nothing(
    browser: Browser, plyr: PlyrServer, atproto_net: Network, bob: SignedIn
) -> None:
    carol = await sign_in(browser, plyr, atproto_net, "carol.test")
    async with carol.client(plyr) as http:
        portal = await http.get("/portal", headers={"Accept": "text/html"})
        assert "delete my account" in portal.text
        assert "also delete my plyr records from my pds" in portal.text
    for typed in ("bob.test", "carol", "Carol.test", ""):
        refused = await delete_from_portal(carol, plyr, typed, also_records=True)
        assert refused.status_code == 422, typed
        assert "that is not your handle, so nothing was deleted" in refused.text
    assert await count_for(plyr, Artist, Artist.did, carol.did) == 1
    assert await count_for(plyr, AuthSession, AuthSession.did, carol.did) == 1
    async with carol.client(plyr) as http:
        assert (await http.get("/api/me")).status_code == 200
        # Without the CSRF token nothing happens either.
        forged = await http.post(
            "/portal/delete-account",
            data={"confirm_handle": "carol.test"},
            headers={"Accept": "text/html", "X-CSRF-Token": ""},
        )
        assert forged.status_code == 403
    assert await count_for(plyr, Artist, Artist.did, carol.did) == 1


async def test_delete_with_records(
    browser: Browser,
    plyr: PlyrServer,
    atproto_net: Network,
    bob: SignedIn,
    tmp_path: Path,
) -> None:
    carol = await sign_in(browser, plyr, atproto_net, "carol.test")
    own_audio = make_audio(tmp_path / "carol.mp3", "mp3", seconds=2.0, freq=612.0)
    shared_audio = make_audio(tmp_path / "shared.mp3", "mp3", seconds=2.0, freq=733.0)
    cover = make_image(tmp_path / "carol.png", "png", size=(333, 301))
    async with carol.client(plyr) as http:
        accepted = await http.post(
            "/api/tracks",
            data={"title": "carol's own"},
            files={
                "file": ("carol.mp3", own_audio.read_bytes(), "audio/mpeg"),
                "image": ("carol.png", cover.read_bytes(), "image/png"),
            },
        )
        assert accepted.status_code == 202, accepted.text
        shared = await upload_published(http, shared_audio, title="carol's copy")
    async with bob.client(plyr) as http:
        bobs = await upload_published(http, shared_audio, title="bob's copy")
    async with asyncio.timeout(60):
        while True:
            async with plyr.runtime.sessions() as db:
                own = await db.scalar(select(Track).where(Track.title == "carol's own"))
            if own is not None and own.publish_state.value == "published":
                break
            await asyncio.sleep(0.1)
    assert own.image_key
    assert own.thumbnail_key
    own_keys = [own.original_key, own.image_key, own.thumbnail_key]
    async with plyr.runtime.sessions() as db:
        shared_key = await db.scalar(select(Track.original_key).where(Track.id == shared["id"]))
    assert shared_key is not None
    assert shared_key == (await _original_key(plyr, bobs["id"]))  # the same stored object

    # Carol likes and comments on bob's track, makes a playlist, writes a bio.
    runtime, session_id = plyr.runtime, carol.session_id
    await likes.like(runtime, carol.did, bobs["id"], session_id)
    await comments.add_comment(runtime, carol.did, bobs["id"], "lovely", 500, session_id)
    await lists.create_list(
        runtime,
        carol.did,
        ListType.playlist,
        "mix",
        session_id=session_id,
        track_ids=[bobs["id"], own.id],
    )
    await profiles.set_bio(runtime, carol.did, "carol makes noise", session_id)
    await update_preferences(runtime, carol.did, {"theme": "dark"})
    await likes.like(runtime, bob.did, bobs["id"], bob.session_id)
    await wait_published(plyr, carol.did)
    await wait_published(plyr, bob.did)
    for name in COLLECTIONS:
        collection = runtime.lexicons.collection(name)
        assert await pds_records(atproto_net, carol.did, collection), name
    # A job of hers still waiting (far in the future) is cancelled with the account.
    async with runtime.sessions() as db:
        waiting = await enqueue(
            db, "test.never", {"did": carol.did}, run_at=utcnow() + timedelta(days=1)
        )
        other = await enqueue(
            db, "test.never", {"did": bob.did}, run_at=utcnow() + timedelta(days=1)
        )
        await db.commit()
        waiting_id, other_id = waiting.id, other.id
    bob_records = {
        name: await pds_records(atproto_net, bob.did, runtime.lexicons.collection(name))
        for name in ("track", "like")
    }

    response = await delete_from_portal(carol, plyr, "carol.test", also_records=True)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/account/gone"
    assert 'plyr_session=""' in response.headers["set-cookie"]

    for name in COLLECTIONS:
        collection = runtime.lexicons.collection(name)
        assert await pds_records(atproto_net, carol.did, collection) == [], name
    for model, column in (
        (Artist, Artist.did),
        (Track, Track.artist_did),
        (Like, Like.did),
        (Comment, Comment.did),
        (MusicList, MusicList.did),
        (Profile, Profile.did),
        (AuthSession, AuthSession.did),
        (Preferences, Preferences.did),
    ):
        assert await count_for(plyr, model, column, carol.did) == 0, model.__name__
    async with runtime.sessions() as db:
        cancelled = await db.get(Job, waiting_id)
        untouched = await db.get(Job, other_id)
        assert cancelled is not None
        assert untouched is not None
        assert cancelled.status == JobStatus.failed
        assert cancelled.last_error == CANCELLED
        assert untouched.status == JobStatus.queued
        await db.delete(untouched)
        await db.commit()
    # Files only she used go in the background; the shared one stays for bob.
    async with asyncio.timeout(30):
        while any(stored(plyr, key) for key in own_keys):  # noqa: ASYNC110 - files, no event
            await asyncio.sleep(0.1)
    assert stored(plyr, shared_key)

    # Bob is untouched: his track, his like, his records.
    async with httpx.AsyncClient(base_url=plyr.url) as http:
        assert (await http.get(f"/api/tracks/{bobs['id']}")).status_code == 200
        assert (await http.get(f"/api/tracks/{own.id}")).status_code == 404
        gone = await http.get("/account/gone")
        assert "your account is gone" in gone.text
    assert await count_for(plyr, Like, Like.did, bob.did) == 1
    for name, records in bob_records.items():
        now = await pds_records(atproto_net, bob.did, runtime.lexicons.collection(name))
        assert {r["uri"] for r in records} <= {r["uri"] for r in now}
    async with carol.client(plyr) as http:
        assert (await http.get("/api/me")).status_code == 401


async def test_delete_without_records_keeps_them_in_the_pds(
    browser: Browser, plyr: PlyrServer, atproto_net: Network, tmp_path: Path
) -> None:
    carol = await sign_in(browser, plyr, atproto_net, "carol.test")
    audio = make_audio(tmp_path / "again.mp3", "mp3", seconds=2.0, freq=811.0)
    async with carol.client(plyr) as http:
        track = await upload_published(http, audio, title="carol again")
    await profiles.set_bio(plyr.runtime, carol.did, "back again", carol.session_id)
    await wait_published(plyr, carol.did)
    collection = plyr.runtime.lexicons.collection("track")
    assert track["uri"] in {r["uri"] for r in await pds_records(atproto_net, carol.did, collection)}

    response = await delete_from_portal(carol, plyr, "@carol.test", also_records=False)
    assert response.status_code == 303
    assert await count_for(plyr, Artist, Artist.did, carol.did) == 0
    assert await count_for(plyr, Track, Track.artist_did, carol.did) == 0
    assert track["uri"] in {r["uri"] for r in await pds_records(atproto_net, carol.did, collection)}
    profile = plyr.runtime.lexicons.collection("actor.profile")
    assert await pds_records(atproto_net, carol.did, profile)


async def _original_key(plyr: PlyrServer, track_id: int) -> str | None:
    async with plyr.runtime.sessions() as db:
        return await db.scalar(select(Track.original_key).where(Track.id == track_id))
