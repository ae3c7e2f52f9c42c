"""Sensitive artwork: operators flag it (the CLI, the admin API for PLYR_ADMIN_DIDS); track
pages blur it for viewers who have not opted in and leave it out of link previews. plyr
runs against the real PDS on SQLite and PostgreSQL; the CLI runs as its own process."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser
from sqlalchemy import select

from plyr.atproto.devnet import Network
from plyr.db.models import Job, JobStatus, SensitiveImage, Track
from plyr.moderation import audit
from plyr.social import sensitive
from tests.conftest import devnet_settings
from tests.support.audio import make_audio, make_image
from tests.support.cli import run_plyr_blocking
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-sensitive"),
        db_url,
        atproto_net,
        admin_dids=[atproto_net.account("alice.test").did],
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
async def track(
    plyr: PlyrServer, alice: SignedIn, tmp_path_factory: pytest.TempPathFactory
) -> Track:
    folder = tmp_path_factory.mktemp("sensitive-media")
    audio = make_audio(folder / "song.mp3", "mp3", seconds=2.0, freq=523.0)
    cover = make_image(folder / "cover.png", "png", size=(320, 320))
    async with alice.client(plyr) as http:
        accepted = await http.post(
            "/api/tracks",
            data={"title": "cover story"},
            files={
                "file": ("song.mp3", audio.read_bytes(), "audio/mpeg"),
                "image": ("cover.png", cover.read_bytes(), "image/png"),
            },
        )
        assert accepted.status_code == 202, accepted.text
    async with asyncio.timeout(60):
        while True:
            async with plyr.runtime.sessions() as db:
                row = await db.scalar(select(Track).where(Track.title == "cover story"))
            if row is not None and row.publish_state.value == "published":
                assert row.image_key
                assert row.thumbnail_key
                return row
            await asyncio.sleep(0.1)


def blurred(html: str) -> bool:
    main = html[html.index('<main id="main"') :]
    artwork = main[: main.index("</h1>")]
    return "sensitive" in artwork.split("<h1")[0]


async def track_page(plyr: PlyrServer, track_id: int, user: SignedIn | None = None) -> str:
    headers = {"Accept": "text/html"}
    if user is None:
        async with httpx.AsyncClient(base_url=plyr.url, headers=headers) as http:
            response = await http.get(f"/tracks/{track_id}")
    else:
        async with user.client(plyr) as http:
            response = await http.get(f"/tracks/{track_id}", headers=headers)
    assert response.status_code == 200
    return response.text


def run_cli(plyr: PlyrServer, *args: str) -> tuple[int, str]:
    env = os.environ | {
        "PLYR_DATABASE_URL": plyr.settings.effective_database_url,
        "PLYR_DATA_DIR": str(plyr.settings.data_dir),
        "PLYR_SECRET_KEY": "test-secret-key-not-for-production",
    }
    cwd = Path(plyr.settings.data_dir).parent
    run = run_plyr_blocking(*args, env=env, cwd=cwd, seconds=60, script=True, split=True)
    return run.returncode, run.output


async def test_only_admins_use_the_admin_api(
    plyr: PlyrServer, alice: SignedIn, bob: SignedIn, track: Track
) -> None:
    body = {"image": track.image_key, "reason": "test"}
    async with bob.client(plyr) as http:
        assert (await http.get("/api/admin/sensitive-images")).status_code == 403
        refused = await http.post("/api/admin/sensitive-images", json=body)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "not_admin"
    async with httpx.AsyncClient(base_url=plyr.url) as anonymous:
        assert (await anonymous.get("/api/admin/sensitive-images")).status_code == 401
    async with alice.client(plyr) as http:
        assert (await http.get("/api/admin/sensitive-images")).json() == []
        forged = await http.post(
            "/api/admin/sensitive-images", json=body, headers={"X-CSRF-Token": ""}
        )
        assert forged.status_code == 403
        assert (
            await http.post("/api/admin/sensitive-images", json={"image": " "})
        ).status_code == 422
    async with plyr.runtime.sessions() as db:
        assert (await db.scalars(select(SensitiveImage))).all() == []


async def test_publishing_runs_the_relabel_job(plyr: PlyrServer, track: Track) -> None:
    """A new record version is handed to moderation (labels follow the CID, flagged artwork
    is labelled: tests/moderation/test_relabel.py); the worker knows the kind."""
    async with asyncio.timeout(30):
        while True:
            async with plyr.runtime.sessions() as db:
                jobs = (await db.scalars(select(Job).where(Job.kind == "moderation.relabel"))).all()
            ran = [job for job in jobs if job.payload == {"track_id": track.id}]
            if ran and all(job.status == JobStatus.succeeded for job in ran):
                break
            await asyncio.sleep(0.1)


async def test_flagged_artwork_is_blurred_until_the_viewer_opts_in(
    plyr: PlyrServer, alice: SignedIn, bob: SignedIn, track: Track
) -> None:
    public_image = f"{plyr.url}/images/{track.id}"
    before = await track_page(plyr, track.id)
    assert not blurred(before)
    assert f'<meta property="og:image" content="{public_image}">' in before

    # The admin flags it by the URL people see; plyr stores the track's image key.
    async with alice.client(plyr) as http:
        flagged = await http.post(
            "/api/admin/sensitive-images", json={"image": public_image, "reason": "gore"}
        )
        assert flagged.status_code == 201, flagged.text
        assert flagged.json()["image_key"] == track.image_key
        assert flagged.json()["flagged_by"] == alice.did
        listed = (await http.get("/api/admin/sensitive-images")).json()
        assert [row["image_key"] for row in listed] == [track.image_key]

    for viewer in (None, bob):
        html = await track_page(plyr, track.id, viewer)
        assert blurred(html)
        assert 'property="og:image"' not in html
        assert 'name="twitter:image"' not in html
    # The thumbnail (a different key) counts as the same artwork.
    assert await sensitive.is_sensitive(plyr.runtime, track.thumbnail_key)
    assert await sensitive.is_sensitive(plyr.runtime, f"{public_image}/thumb")
    assert not await sensitive.is_sensitive(plyr.runtime, "images/zz/unrelated.jpg")

    async with bob.client(plyr) as http:
        opted = await http.patch("/api/preferences", json={"show_sensitive": True})
        assert opted.status_code == 200
    assert not blurred(await track_page(plyr, track.id, bob))
    assert blurred(await track_page(plyr, track.id))  # others still see it blurred

    async with alice.client(plyr) as http:
        cleared = await http.delete(
            "/api/admin/sensitive-images", params={"image": track.image_key}
        )
        assert cleared.status_code == 204
        again = await http.delete("/api/admin/sensitive-images", params={"image": track.image_key})
        assert again.status_code == 404
    html = await track_page(plyr, track.id)
    assert not blurred(html)
    assert f'<meta property="og:image" content="{public_image}">' in html
    # Both decisions are in the audit log, under the admin's DID.
    logged = await audit.entries(plyr.runtime, subject=f"image:{track.image_key}")
    assert [(entry.action, entry.actor) for entry in logged[:2]] == [
        ("image.unflag", alice.did),
        ("image.flag", alice.did),
    ]
    assert logged[1].detail["reason"] == "gore"


async def test_operators_flag_from_the_command_line(
    plyr: PlyrServer, bob: SignedIn, track: Track
) -> None:
    key = str(track.image_key)
    code, out = await asyncio.to_thread(
        run_cli, plyr, "moderation", "flag-image", key, "--reason", "nsfw"
    )
    assert code == 0, out
    assert f"flagged {key}" in out
    code, out = await asyncio.to_thread(run_cli, plyr, "moderation", "list-images")
    assert code == 0, out
    assert key in out, out
    assert "nsfw" in out, out
    # Another process flagged it: this one sees it at its next refresh (at most 15 s).
    await sensitive.refresh(plyr.runtime)
    assert blurred(await track_page(plyr, track.id))

    code, out = await asyncio.to_thread(
        run_cli, plyr, "moderation", "flag-image", "https://images.example/x.jpg"
    )
    assert code == 0, out
    await sensitive.refresh(plyr.runtime)
    assert await sensitive.is_sensitive(plyr.runtime, "https://images.example/x.jpg")

    for image in (key, "https://images.example/x.jpg"):
        code, out = await asyncio.to_thread(run_cli, plyr, "moderation", "unflag-image", image)
        assert code == 0, out
    code, out = await asyncio.to_thread(run_cli, plyr, "moderation", "unflag-image", key)
    assert code == 1
    assert "is not flagged" in out
    await sensitive.refresh(plyr.runtime)
    assert not blurred(await track_page(plyr, track.id))
    logged = await audit.entries(plyr.runtime, subject=f"image:{key}")
    assert [(entry.action, entry.actor) for entry in logged[:2]] == [
        ("image.unflag", "cli"),
        ("image.flag", "cli"),
    ]
