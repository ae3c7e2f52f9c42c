"""Lyrics in Chromium: the upload form's fields (sent with the upload), the track page's
section whose synced line follows the real audio in the player, the full-screen view
(opened with "l" and its button, closed with Esc, the line at the current time marked, a
click on a line seeking there), at 1280 and 375 px in the dark and light themes.
Screenshots go to $PLYR_TEST_SHOTS (default: test-artifacts/)."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.support.audio import make_audio
from tests.support.browser import ARTIFACTS
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, upload_published

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("PLYR_TEST_SHOTS", str(ARTIFACTS)))
VIEWPORTS = {"1280": (1280, 800), "375": (375, 740)}
LINES = ["Out on the Water", "the lights go low", "we drift and we turn", "and then we go home"]
SYNCED = "\n".join(f"[00:{2 * i:02d}.00]{line}" for i, line in enumerate(LINES))
PLAIN = "\n".join(LINES)


async def no_sideways_scroll(page: Page) -> None:
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


async def shots(page: Page, name: str, *, full_page: bool) -> None:
    await anyio.Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for theme in ("dark", "light"):
        await page.evaluate(f"document.documentElement.dataset.theme = '{theme}'")
        for label, (width, height) in VIEWPORTS.items():
            await page.set_viewport_size({"width": width, "height": height})
            await page.wait_for_timeout(400)  # the smooth scroll to the current line
            await no_sideways_scroll(page)
            path = SHOTS / f"lyrics-{name}-{theme}-{label}.png"
            await page.screenshot(path=path, full_page=full_page)
    await page.set_viewport_size({"width": 1280, "height": 800})


async def current_line(page: Page, where: str) -> str | None:
    found: str | None = await page.evaluate(
        """(where) => document.querySelector(`${where} [aria-current="true"]`)?.textContent.trim()
           ?? null""",
        where,
    )
    return found


async def player_time(page: Page) -> float:
    return float(await page.evaluate("document.getElementById('player-audio').currentTime"))


async def test_upload_form_sends_lyrics(
    plyr: PlyrServer, alice: SignedIn, signed_in: BrowserContext, tmp_path: Path
) -> None:
    page = await signed_in.new_page()
    await page.goto(f"{plyr.url}/upload")
    group = page.get_by_role("group", name="lyrics")
    await group.get_by_label("plain lyrics").fill(PLAIN)
    await group.get_by_label("synced lyrics").fill(SYNCED)
    await group.get_by_label("language").fill("en")
    await page.locator("#file").set_input_files(make_audio(tmp_path / "f.mp3", "mp3", freq=661))
    await page.locator("#title").fill("sung on the form")
    await page.get_by_role("button", name="upload", exact=True).click()
    await expect(page.locator("#upload-progress")).to_have_attribute(
        "data-state", "done", timeout=60_000
    )
    href = await page.locator("#upload-result a").get_attribute("href")
    assert href is not None
    async with alice.client(plyr) as http:
        track = (await http.get(f"/api/{href.strip('/')}")).json()
    assert track["lyrics"] == {"plain": PLAIN, "synced": SYNCED, "lang": "en"}

    # A bad LRC: the form says why, nothing is uploaded.
    await page.goto(f"{plyr.url}/upload")
    await page.locator("#synced_lyrics").fill("[00:01.00]fine\nno time")
    await page.locator("#file").set_input_files(make_audio(tmp_path / "g.mp3", "mp3", freq=662))
    await page.get_by_role("button", name="upload", exact=True).click()
    await expect(page.get_by_text("line 2 has no time", exact=False).first).to_be_visible()
    await page.close()


async def test_track_page_and_full_screen_follow_the_music(
    plyr: PlyrServer, alice: SignedIn, signed_in: BrowserContext, tmp_path: Path
) -> None:
    source = make_audio(tmp_path / "sung.mp3", "mp3", seconds=10.0, freq=663)
    async with alice.client(plyr) as http:
        track = await upload_published(
            http, source, title="Harbour Song", lyrics=PLAIN, synced_lyrics=SYNCED, lyrics_lang="en"
        )
    page = await signed_in.new_page()
    await page.goto(f"{plyr.url}/tracks/{track['id']}")
    section = page.get_by_role("region", name="lyrics synced")
    await expect(section).to_be_visible()
    await expect(section.locator("li")).to_have_text(LINES)  # the artist's case kept
    assert await current_line(page, ".lyrics") is None  # nothing plays yet

    # Real audio: play, let it pass the second line's time, pause; that line is marked.
    await page.get_by_role("button", name="play Harbour Song").click()
    await page.wait_for_function("() => document.getElementById('player-audio').currentTime > 2.3")
    await page.evaluate("document.getElementById('player-audio').pause()")
    at = await player_time(page)
    expected = LINES[min(int(at // 2), len(LINES) - 1)]
    await expect(section.locator('li[aria-current="true"]')).to_have_text(expected)
    await shots(page, "track", full_page=True)

    # "l" opens the full-screen view; it names itself and marks the same line.
    await page.locator("body").press("l")
    view = page.get_by_role("dialog", name="Harbour Song")
    await expect(view).to_be_visible()
    await expect(view.locator('li[aria-current="true"]')).to_have_text(expected)
    close = view.get_by_role("button", name="close lyrics")
    await expect(close).to_be_visible()
    # A click on the last line seeks there; the marked line follows.
    await view.get_by_role("button", name=LINES[3]).click()
    await page.wait_for_function(
        "() => Math.abs(document.getElementById('player-audio').currentTime - 6) < 0.6"
    )
    await page.evaluate("document.getElementById('player-audio').pause()")
    await expect(view.locator('li[aria-current="true"]')).to_have_text(LINES[3])
    await expect(section.locator('li[aria-current="true"]')).to_have_text(LINES[3])
    # Seeking back (the player's own control, as a listener would) moves the mark back.
    await page.evaluate("document.getElementById('player-audio').currentTime = 0.5")
    await expect(view.locator('li[aria-current="true"]')).to_have_text(LINES[0])
    await page.evaluate("document.getElementById('player-audio').currentTime = 4.2")
    await expect(view.locator('li[aria-current="true"]')).to_have_text(LINES[2])
    await shots(page, "full-screen", full_page=False)

    await page.keyboard.press("Escape")
    await expect(view).to_be_hidden()
    # The button opens it too (keyboard: focus it, Enter); "l" closes it.
    opener = page.get_by_role("button", name="full screen")
    await opener.focus()
    await page.keyboard.press("Enter")
    await expect(view).to_be_visible()
    await page.keyboard.press("l")
    await expect(view).to_be_hidden()
    await page.close()


async def test_plain_lyrics_and_the_edit_form(
    plyr: PlyrServer, alice: SignedIn, signed_in: BrowserContext, tmp_path: Path
) -> None:
    source = make_audio(tmp_path / "plain.mp3", "mp3", freq=664)
    async with alice.client(plyr) as http:
        track = await upload_published(http, source, title="Plain Song", lyrics=PLAIN)
    page = await signed_in.new_page()
    await page.goto(f"{plyr.url}/tracks/{track['id']}")
    section = page.get_by_role("region", name="lyrics")
    await expect(section.locator(".lyrics-plain")).to_have_text(PLAIN)
    await page.keyboard.press("l")
    await expect(page.get_by_role("dialog", name="Plain Song")).to_be_visible()
    await page.keyboard.press("Escape")

    # The owner's edit form holds the lyrics and changes them.
    edit = page.get_by_role("group", name="lyrics")
    await expect(edit.get_by_label("plain lyrics")).to_have_value(PLAIN)
    await edit.get_by_label("plain lyrics").fill("")
    await edit.get_by_label("synced lyrics").fill("[00:00.00]Only This")
    await page.get_by_role("button", name="save changes").click()
    await page.wait_for_url(f"**/tracks/{track['id']}")
    await expect(page.get_by_role("region", name="lyrics synced").locator("li")).to_have_text(
        ["Only This"]
    )
    await page.close()
