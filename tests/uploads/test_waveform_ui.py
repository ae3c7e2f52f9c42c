"""Waveforms in Chromium: a real upload (a tone, then silence) gets its peaks while it is
processed; the track page draws them large (the tone's half tall, the silent half flat) and
the player bar draws them compact in place of its range; a click on either seeks the real
audio to the clicked fraction, the arrows ±5 s and Home/End seek from the keyboard (a
role="slider" whose aria-valuenow follows), and the timed comments sit along the track
page's waveform as avatars whose text opens on hover and on keyboard focus, a click playing
from their time. Screenshots at 1280 and 375 px, dark and light, in test-artifacts/."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest
from playwright.async_api import BrowserContext, Locator, Page, expect

from plyr.db.models import Track
from tests.support.browser import ARTIFACTS
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, upload_published
from tests.support.waveforms import tone_then_silence

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("PLYR_TEST_SHOTS", str(ARTIFACTS)))
VIEWPORTS = {"1280": (1280, 800), "375": (375, 740)}
SECONDS = 20.0
AUDIO = "document.getElementById('player-audio')"


async def player_time(page: Page) -> float:
    return float(await page.evaluate(f"{AUDIO}.currentTime"))


async def time_near(page: Page, seconds: float, within: float = 0.8) -> None:
    """Wait until the real audio's position is within `within` s of `seconds`."""
    await page.wait_for_function(
        f"([want, within]) => Math.abs({AUDIO}.currentTime - want) < within",
        arg=[seconds, within],
    )


async def click_at(page: Page, target: Locator, fraction: float) -> None:
    box = await target.bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)


async def painted(page: Page, canvas: str, start: float, end: float) -> float:
    """The share of the canvas's pixels painted between fractions `start` and `end`."""
    share: float = await page.evaluate(
        """([selector, start, end]) => {
             const canvas = document.querySelector(selector);
             const context = canvas.getContext("2d");
             const x = Math.floor(canvas.width * start);
             const width = Math.max(1, Math.floor(canvas.width * (end - start)));
             const data = context.getImageData(x, 0, width, canvas.height).data;
             let count = 0;
             for (let i = 3; i < data.length; i += 4) if (data[i] > 0) count++;
             return count / (width * canvas.height);
           }""",
        [canvas, start, end],
    )
    return share


async def no_sideways_scroll(page: Page) -> None:
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


async def test_waveforms_draw_seek_and_carry_the_comments(
    plyr: PlyrServer, alice: SignedIn, signed_in: BrowserContext, tmp_path: Path
) -> None:
    source = tone_then_silence(tmp_path / "tide.mp3", "mp3", seconds=SECONDS)
    async with alice.client(plyr) as http:
        track = await upload_published(http, source, title="Tide Then Still")
        for at, text in ((4_000, "the swell starts here"), (15_000, "and now the quiet")):
            posted = await http.post(
                f"/api/tracks/{track['id']}/comments", json={"text": text, "timestamp_ms": at}
            )
            assert posted.status_code == 201, posted.text
        peaks = await http.get(f"/api/tracks/{track['id']}/waveform")
    assert peaks.status_code == 200, peaks.text  # computed while the upload was processed
    assert len(peaks.json()["peaks"]) == 1000

    page = await signed_in.new_page()
    await page.goto(f"{plyr.url}/tracks/{track['id']}")
    box = page.locator("[data-track-waveform]")
    await expect(box).to_have_attribute("data-state", "drawn")
    slider = page.get_by_role("slider", name="seek in Tide Then Still")
    await expect(slider).to_be_visible()
    # The tone's half is drawn tall, the silent half as a hairline.
    loud = await painted(page, ".wave-canvas", 0.05, 0.45)
    quiet = await painted(page, ".wave-canvas", 0.55, 0.95)
    assert loud > 0.15, (loud, quiet)
    assert quiet < loud / 5, (loud, quiet)

    # Play: the player bar draws the compact waveform in place of its range.
    await page.get_by_role("button", name="play Tide Then Still").click()
    bar_wave = page.locator("[data-player-waveform]")
    await expect(bar_wave).to_be_visible()
    await expect(page.locator("[data-player-seek]")).to_be_hidden()
    await page.wait_for_function(f"() => {AUDIO}.currentTime > 0.2")
    await page.evaluate(f"{AUDIO}.pause()")

    # A click on the track page's waveform seeks the real audio to that fraction.
    await click_at(page, slider, 0.75)
    await time_near(page, 0.75 * SECONDS)
    await page.evaluate(f"{AUDIO}.pause()")
    # … and one on the player bar's.
    await click_at(page, bar_wave, 0.25)
    await time_near(page, 0.25 * SECONDS)
    await expect(bar_wave).to_have_attribute("aria-valuenow", "5")

    # The keyboard: arrows ±5 s (the player's own ←/→ shortcut does not add its own), Home,
    # End; a key only moves (a paused track stays paused).
    await slider.focus()
    start = await player_time(page)
    await page.keyboard.press("ArrowRight")
    await time_near(page, start + 5, within=0.5)
    await expect(slider).to_have_attribute("aria-valuenow", str(int(start + 5)))
    await page.keyboard.press("ArrowLeft")
    await page.keyboard.press("ArrowLeft")
    await time_near(page, start - 5, within=0.5)
    await page.keyboard.press("End")
    await time_near(page, SECONDS - 1, within=0.6)
    await page.keyboard.press("Home")
    await time_near(page, 0, within=0.5)
    await expect(slider).to_have_attribute("aria-valuetext", "0:00 of 0:20")
    assert await page.evaluate(f"{AUDIO}.paused")

    # The comments along the waveform: hover opens one, keyboard focus the other.
    avatars = page.locator(".wave-avatar")
    await expect(avatars).to_have_count(2)
    first_text = page.get_by_role("tooltip").filter(has_text="the swell starts here")
    await expect(first_text).to_be_hidden()
    await avatars.nth(0).hover()
    await expect(first_text).to_be_visible()
    second = page.get_by_role("button", name=f"@{alice.handle} at 0:15: play from here")
    await second.focus()
    await expect(page.get_by_role("tooltip").filter(has_text="and now the quiet")).to_be_visible()
    await second.click()
    await time_near(page, 15.0)
    await page.evaluate(f"{AUDIO}.pause()")

    await anyio.Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for theme in ("dark", "light"):
        await page.evaluate(f"document.documentElement.dataset.theme = '{theme}'")
        for label, (width, height) in VIEWPORTS.items():
            await page.set_viewport_size({"width": width, "height": height})
            await slider.scroll_into_view_if_needed()
            await avatars.nth(0).hover()  # one comment open in the picture
            await expect(first_text).to_be_visible()
            await no_sideways_scroll(page)
            await page.screenshot(path=SHOTS / f"waveform-{theme}-{label}.png")
    await page.close()


async def test_the_player_bar_keeps_its_range_without_peaks(
    plyr: PlyrServer, alice: SignedIn, signed_in: BrowserContext, tmp_path: Path
) -> None:
    """A track whose waveform is not computed (a track from before waveforms): the bar keeps
    its range input, the track page a flat line that still seeks."""
    source = tone_then_silence(tmp_path / "old.mp3", "mp3", seconds=8.0)
    async with alice.client(plyr) as http:
        track = await upload_published(http, source, title="Before Waveforms")
    async with plyr.runtime.sessions() as db:
        row = await db.get(Track, track["id"])
        assert row is not None
        row.waveform_key = None
        await db.commit()
    page = await signed_in.new_page()
    await page.goto(f"{plyr.url}/tracks/{track['id']}")
    await expect(page.locator("[data-track-waveform]")).to_have_attribute("data-state", "pending")
    await page.get_by_role("button", name="play Before Waveforms").click()
    await page.wait_for_function(f"() => {AUDIO}.currentTime > 0.2")
    await expect(page.locator("[data-player-seek]")).to_be_visible()
    await expect(page.locator("[data-player-waveform]")).to_be_hidden()
    await page.evaluate(f"{AUDIO}.pause()")
    await click_at(page, page.get_by_role("slider", name="seek in Before Waveforms"), 0.5)
    await time_near(page, 4.0)
    await page.close()
