"""Now playing: positions, pause, stop and expiry; shared across processes; the player's reports."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser

from plyr.auth.sessions import COOKIE_NAME
from tests.support.listening import TTL
from tests.support.plyr_process import second_web_process
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn

pytestmark = pytest.mark.browser


async def test_now_playing_reports_positions_pause_stop_and_expiry(
    plyr: PlyrServer, bob: SignedIn, long_track: dict[str, Any]
) -> None:
    async with bob.client(plyr) as http, httpx.AsyncClient(base_url=plyr.url) as anyone:
        assert (await anyone.get(f"/api/now-playing/{bob.did}")).status_code == 204
        put = await http.put(
            "/api/now-playing",
            json={"track_id": long_track["id"], "position_ms": 1000, "paused": False},
        )
        assert put.status_code == 204, put.text
        first = await anyone.get(f"/api/now-playing/{bob.did}")
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["did"] == bob.did
        assert body["handle"] == "bob.test"
        assert body["paused"] is False
        assert body["track"]["id"] == long_track["id"]
        assert body["track"]["title"] == "twenty seconds"
        assert body["track"]["artist"] == long_track["artist"]
        assert body["track"]["duration"] == 20
        assert body["track"]["url"] == f"{plyr.url}/tracks/{long_track['id']}"
        assert "image_url" in body["track"]
        assert 1000 <= body["position_ms"] < 2000
        await asyncio.sleep(0.6)
        later = (await anyone.get(f"/api/now-playing/{bob.did}")).json()
        assert later["position_ms"] >= body["position_ms"] + 500  # extrapolated while playing

        by_handle = await anyone.get("/api/now-playing/by-handle/bob.test")
        assert by_handle.status_code == 200
        assert by_handle.json()["track"]["id"] == long_track["id"]
        assert (await anyone.get("/api/now-playing/by-handle/nobody.test")).status_code == 204

        # Paused: still there, and the position stands still.
        await http.put(
            "/api/now-playing",
            json={"track_id": long_track["id"], "position_ms": 4200, "paused": True},
        )
        paused = (await anyone.get(f"/api/now-playing/{bob.did}")).json()
        assert paused["paused"] is True
        assert paused["position_ms"] == 4200
        await asyncio.sleep(0.3)
        assert (await anyone.get(f"/api/now-playing/{bob.did}")).json()["position_ms"] == 4200

        # Stopped (DELETE): nothing plays.
        assert (await http.delete("/api/now-playing")).status_code == 204
        assert (await anyone.get(f"/api/now-playing/{bob.did}")).status_code == 204

        # The beacon variant: a form post carrying the CSRF token as a field.
        await http.put("/api/now-playing", json={"track_id": long_track["id"]})
        assert (await anyone.get(f"/api/now-playing/{bob.did}")).status_code == 200
        async with httpx.AsyncClient(
            base_url=plyr.url, cookies={COOKIE_NAME: bob.cookie}
        ) as beacon:
            refused = await beacon.post("/api/now-playing/stop", data={"csrf_token": "nope"})
            assert refused.status_code == 403
            stopped = await beacon.post("/api/now-playing/stop", data={"csrf_token": bob.csrf})
            assert stopped.status_code == 204
        assert (await anyone.get(f"/api/now-playing/{bob.did}")).status_code == 204

        # A player that goes silent drops out after the TTL.
        await http.put("/api/now-playing", json={"track_id": long_track["id"]})
        assert (await anyone.get(f"/api/now-playing/{bob.did}")).status_code == 200
        await asyncio.sleep(TTL + 0.3)
        assert (await anyone.get(f"/api/now-playing/{bob.did}")).status_code == 204

        # Bad reports change nothing.
        signed_out = await anyone.put("/api/now-playing", json={"track_id": long_track["id"]})
        assert signed_out.status_code == 401
        missing = await http.put("/api/now-playing", json={"track_id": 999_999})
        assert missing.status_code == 404
        async with httpx.AsyncClient(
            base_url=plyr.url, cookies={COOKIE_NAME: bob.cookie}
        ) as no_token:
            no_csrf = await no_token.put("/api/now-playing", json={"track_id": long_track["id"]})
            assert no_csrf.status_code == 403


async def test_now_playing_across_two_processes(
    plyr: PlyrServer, bob: SignedIn, long_track: dict[str, Any], db_url: str, tmp_path: Path
) -> None:
    """Report to this plyr, read from a second `plyr serve` process on the same database."""
    if not db_url.startswith("postgresql"):
        pytest.skip("several web processes share PostgreSQL (SQLite is one process)")
    async with (
        second_web_process(
            database_url=db_url,
            secret_key="test-secret-key-not-for-production",
            data_dir=tmp_path / "data",
            plc_url=plyr.settings.plc_url,
            log=tmp_path / "second.log",
            extra_env={"PLYR_NOW_PLAYING_TTL_SECONDS": str(TTL)},
        ) as second,
        httpx.AsyncClient(base_url=second) as other,
        bob.client(plyr) as http,
    ):
        await http.put(
            "/api/now-playing",
            json={"track_id": long_track["id"], "position_ms": 3000, "paused": False},
        )
        there = await other.get(f"/api/now-playing/{bob.did}")
        assert there.status_code == 200, there.text
        assert there.json()["track"]["id"] == long_track["id"]
        assert there.json()["position_ms"] >= 3000
        assert (await other.get("/api/now-playing/by-handle/bob.test")).status_code == 200
        await http.delete("/api/now-playing")
        assert (await other.get(f"/api/now-playing/{bob.did}")).status_code == 204


async def poll_now_playing(
    plyr: PlyrServer, did: str, done: Callable[[httpx.Response], bool]
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=plyr.url) as anyone, asyncio.timeout(10):
        while True:
            response = await anyone.get(f"/api/now-playing/{did}")
            if done(response):
                return response
            await asyncio.sleep(0.1)


async def test_the_player_reports_now_playing(
    browser: Browser, plyr: PlyrServer, bob: SignedIn, long_track: dict[str, Any]
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    host = plyr.url.removeprefix("http://").split(":")[0]
    await context.add_cookies(
        [{"name": COOKIE_NAME, "value": bob.cookie, "domain": host, "path": "/"}]
    )
    page = await context.new_page()
    try:
        await page.goto(f"{plyr.url}/tracks/{long_track['id']}")
        await page.get_by_role("button", name="play twenty seconds").first.click()
        await page.wait_for_function(
            "() => document.getElementById('player-audio').currentTime > 0.5"
        )
        now = await poll_now_playing(plyr, bob.did, lambda r: r.status_code == 200)
        assert now.json()["track"]["id"] == long_track["id"]
        assert now.json()["paused"] is False
        await page.evaluate("document.getElementById('player-audio').pause()")
        await poll_now_playing(
            plyr, bob.did, lambda r: r.status_code == 200 and r.json()["paused"] is True
        )
        await page.goto("about:blank")  # leaving the page sends the stop beacon
        await poll_now_playing(plyr, bob.did, lambda r: r.status_code == 204)
    finally:
        await context.close()
