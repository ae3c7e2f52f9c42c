"""Jams in Chromium: a host starts one from the player's queue, a guest joins by its link,
and both pages' players stay on one timeline (drift measured against the machine's clock
≤ 250 ms); the guest follows the host's seek and pause; control handed over works; on
PostgreSQL, the guest's page on a second `plyr serve` follows a host on the first."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.support.audio import make_audio
from tests.support.browser import ARTIFACTS
from tests.support.jams import (
    JAM_AUDIO,
    listener_context,
    measure_drift,
    playing,
    settled,
    start_listening,
)
from tests.support.plyr_process import second_web_process
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, upload_published

DRIFT_TARGET_MS = 250.0
SETTLED_MS = 60.0  # in step: measuring starts once the pages are this close
SAMPLE_SECONDS = 4.0


@pytest.fixture(scope="module")
async def minute_track(
    plyr: PlyrServer, alice: SignedIn, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    source = make_audio(tmp_path_factory.mktemp("jam") / "jam.mp3", "mp3", seconds=60.0, freq=440)
    async with alice.client(plyr) as http:
        return await upload_published(http, source, title="a minute together")


async def host_starts_a_jam(page: Page, base: str, track: dict[str, Any]) -> str:
    """From the track's page: play it, open the queue, "start a jam"; the jam's address."""
    await page.goto(f"{base}/tracks/{track['id']}")
    await page.get_by_role("button", name=f"play {track['title']}").first.click()
    await page.wait_for_function("() => document.getElementById('player-audio').currentTime > 0.3")
    await page.get_by_role("button", name="queue", exact=True).click()
    await page.get_by_role("button", name="start a jam").click()
    await page.wait_for_url(re.compile(r"/jam/[A-Za-z0-9_-]{8,}$"))
    await start_listening(page)
    assert await page.evaluate("() => document.getElementById('player-audio').paused")
    return page.url


async def screenshots(page: Page, role: str) -> None:
    for width in (1280, 375):
        await page.set_viewport_size({"width": width, "height": 900})
        for theme in ("dark", "light"):
            await page.evaluate(f"() => document.documentElement.dataset.theme = '{theme}'")
            await page.screenshot(
                path=ARTIFACTS / f"jam-{role}-{width}-{theme}.png", full_page=True
            )
    await page.set_viewport_size({"width": 1280, "height": 900})


async def test_a_jam_in_two_browsers(
    browser: Browser,
    plyr: PlyrServer,
    alice: SignedIn,
    carol: SignedIn,
    minute_track: dict[str, Any],
) -> None:
    host_context = await listener_context(browser, plyr.url, alice.cookie)
    guest_context = await listener_context(browser, plyr.url, carol.cookie)
    try:
        host = await host_context.new_page()
        guest = await guest_context.new_page()
        link = await host_starts_a_jam(host, plyr.url, minute_track)
        assert await host.locator("#jam-link").input_value() == link

        await guest.goto(link)
        await expect(guest.locator("[data-jam-title]")).to_have_text("a minute together")
        await guest.get_by_role("button", name="join and listen").click()
        await playing(guest, past_ms=1000)
        await expect(host.locator("[data-jam-with]")).to_have_text("listening with @carol.test")
        await expect(guest.locator("[data-jam-with]")).to_have_text("listening with @alice.test")
        await expect(
            guest.locator("[data-jam-members] li", has_text="@alice.test")
        ).to_contain_text("host")
        # Only the host has the controls.
        await expect(guest.get_by_role("button", name="pause for everyone")).to_be_hidden()
        await expect(guest.get_by_role("slider", name="jam position")).to_be_disabled()

        await settled(host, guest, SETTLED_MS)
        drift = await measure_drift(host, guest, SAMPLE_SECONDS)
        print(
            f"[jam] drift over {SAMPLE_SECONDS:.0f} s: "
            f"median {drift.median:.0f} ms, worst {drift.worst:.0f} ms; clocks: {drift.clocks}"
        )
        assert drift.worst <= DRIFT_TARGET_MS, drift.samples

        await screenshots(guest, "guest")

        # The host seeks: the guest is there too.
        seek = host.get_by_role("slider", name="jam position")
        await seek.fill("40")
        await guest.wait_for_function(
            f"() => {JAM_AUDIO}.currentTime > 39.5 && {JAM_AUDIO}.currentTime < 45"
        )
        await settled(host, guest, DRIFT_TARGET_MS)

        # The host pauses (by keyboard): the guest pauses at the same place.
        await host.get_by_role("button", name="pause for everyone").focus()
        await host.keyboard.press("Enter")
        await guest.wait_for_function(f"() => {JAM_AUDIO}.paused")
        await expect(guest.locator("[data-jam-state]")).to_have_text("paused")
        held = await guest.evaluate(f"() => {JAM_AUDIO}.currentTime")
        here = await host.evaluate(f"() => {JAM_AUDIO}.currentTime")
        assert abs(held - here) < 0.25

        # Control goes to the guest, whose play now plays for the first host too.
        await host.get_by_role("button", name="make @carol.test the host").click()
        await expect(guest.get_by_role("button", name="play for everyone")).to_be_visible()
        await expect(host.get_by_role("button", name="play for everyone")).to_be_hidden()
        await guest.get_by_role("button", name="play for everyone").click()
        await playing(host, past_ms=held * 1000 + 200)
        await settled(host, guest, DRIFT_TARGET_MS)
        await screenshots(guest, "host")  # carol hosts now: the controls
        await screenshots(host, "member")

        # The new host leaves: control returns to the one left; then they end it.
        await guest.get_by_role("button", name="leave the jam").click()
        await expect(host.get_by_role("button", name="end the jam")).to_be_visible()
        await expect(host.locator("[data-jam-with]")).to_have_text(
            "nobody else here yet: share the link"
        )
        await host.get_by_role("button", name="end the jam").click()
        await expect(host.locator("[data-jam-with]")).to_have_text("this jam has ended")
        await host.wait_for_function(f"() => {JAM_AUDIO}.paused")
    finally:
        await host_context.close()
        await guest_context.close()


async def test_a_jam_across_two_web_processes(
    browser: Browser,
    plyr: PlyrServer,
    alice: SignedIn,
    carol: SignedIn,
    minute_track: dict[str, Any],
    db_url: str,
    tmp_path: Path,
) -> None:
    """The host's page on this plyr, the guest's on a second process: in step, and the
    host's pause reaches the guest through the database."""
    if not db_url.startswith("postgresql"):
        pytest.skip("several web processes share PostgreSQL (SQLite is one process)")
    settings = plyr.settings
    assert settings.secret_key is not None
    async with second_web_process(
        database_url=db_url,
        secret_key=settings.secret_key.get_secret_value(),
        data_dir=tmp_path / "second",
        media_dir=settings.effective_storage_local_dir,
        public_dir=settings.effective_media_public_dir,
        plc_url=settings.plc_url,
        log=tmp_path / "second.log",
    ) as second:
        host_context = await listener_context(browser, plyr.url, alice.cookie)
        guest_context = await listener_context(browser, second, carol.cookie)
        try:
            host = await host_context.new_page()
            guest = await guest_context.new_page()
            link = await host_starts_a_jam(host, plyr.url, minute_track)
            await guest.goto(link.replace(plyr.url, second))
            await guest.get_by_role("button", name="join and listen").click()
            await playing(guest, past_ms=1000)
            await expect(host.locator("[data-jam-with]")).to_have_text("listening with @carol.test")

            await settled(host, guest, SETTLED_MS)
            drift = await measure_drift(host, guest, SAMPLE_SECONDS)
            print(
                f"[jam, two processes] drift: "
                f"median {drift.median:.0f} ms, worst {drift.worst:.0f} ms; clocks: {drift.clocks}"
            )
            assert drift.worst <= DRIFT_TARGET_MS, drift.samples

            await host.get_by_role("button", name="pause for everyone").click()
            await guest.wait_for_function(f"() => {JAM_AUDIO}.paused")
            await host.get_by_role("button", name="end the jam").click()
            await expect(guest.locator("[data-jam-with]")).to_have_text("this jam has ended")
        finally:
            await host_context.close()
            await guest_context.close()
