"""Content warnings in Chromium: the upload form's checkboxes (reached and ticked with the
keyboard, sent with the upload), the track page's banner and blurred artwork with its
"show artwork" control, the chip in track rows, and the edit form. Screenshots at 1280 and
375 px go to $PLYR_TEST_SHOTS (default: test-artifacts/)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.support.audio import make_audio, make_image
from tests.support.browser import ARTIFACTS
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn
from tests.support.uploads import follow_progress

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("PLYR_TEST_SHOTS", str(ARTIFACTS)))
VIEWPORTS = {"1280": (1280, 800), "375": (375, 740)}
NAMES = ("sexually suggestive", "explicit sexual content", "nudity", "graphic content")


@pytest.fixture
async def anyone(browser: Browser) -> AsyncIterator[BrowserContext]:
    new = await browser.new_context()
    yield new
    await new.close()


async def focused(page: Page) -> dict[str, Any]:
    """The focused element: its id and what the accessibility tree calls it."""
    found: dict[str, Any] = await page.evaluate(
        """() => {
            const el = document.activeElement;
            const label = el.labels && el.labels[0] ? el.labels[0].textContent.trim() : "";
            return { id: el.id, type: el.type || "", checked: !!el.checked, label };
        }"""
    )
    return found


async def no_sideways_scroll(page: Page) -> None:
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


async def shots(page: Page, name: str, *, full_page: bool = True) -> None:
    await anyio.Path(SHOTS).mkdir(parents=True, exist_ok=True)
    for label, (width, height) in VIEWPORTS.items():
        await page.set_viewport_size({"width": width, "height": height})
        await page.wait_for_timeout(150)
        await no_sideways_scroll(page)
        await page.screenshot(
            path=SHOTS / f"content-warnings-{name}-{label}.png", full_page=full_page
        )
    await page.set_viewport_size({"width": 1280, "height": 800})


async def test_the_upload_form_sends_the_ticked_warnings(
    plyr: PlyrServer, alice: SignedIn, signed_in: BrowserContext, tmp_path: Path
) -> None:
    page = await signed_in.new_page()
    await page.goto(f"{plyr.url}/upload")
    group = page.get_by_role("group", name="content warnings")
    await expect(group).to_be_visible()
    for name in NAMES:
        await expect(group.get_by_role("checkbox", name=name, exact=True)).not_to_be_checked()
    await shots(page, "upload")

    # From the artwork field, Tab reaches each checkbox in turn; Space ticks it.
    await page.focus("#image")
    for name in NAMES:
        await page.keyboard.press("Tab")
        assert (await focused(page))["label"] == name
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Space")  # "sexually suggestive"
    assert await focused(page) == {
        "id": "upload-warn-sexual",
        "type": "checkbox",
        "checked": True,
        "label": "sexually suggestive",
    }

    await page.locator("#file").set_input_files(
        make_audio(tmp_path / "form.mp3", "mp3", freq=641.9)
    )
    await page.locator("#title").fill("ticked on the form")
    await page.get_by_role("button", name="upload", exact=True).click()
    await expect(page.locator("#upload-progress")).to_have_attribute(
        "data-state", "done", timeout=60_000
    )
    href = await page.locator("#upload-result a").get_attribute("href")
    assert href is not None
    async with alice.client(plyr) as http:
        track = (await http.get(f"/api/{href.strip('/')}")).json()
    assert track["self_labels"] == ["sexual"]
    await page.close()


async def labelled_track_with_art(plyr: PlyrServer, alice: SignedIn, folder: Path) -> int:
    art = make_image(folder / "art.png", "png", (320, 320))
    audio = make_audio(folder / "art.mp3", "mp3", freq=643.1)
    async with alice.client(plyr) as http:
        accepted = await http.post(
            "/api/tracks",
            data={"title": "a warned cover", "self_labels": ["sexual", "nudity"]},
            files={
                "file": ("art.mp3", audio.read_bytes()),
                "image": ("art.png", art.read_bytes(), "image/png"),
            },
        )
        assert accepted.status_code == 202, accepted.text
        final = (await follow_progress(http, accepted.json()["progress_url"]))[-1]
    assert final["phase"] == "published", final
    return int(final["track_id"])


async def artwork_filter(page: Page) -> str:
    value: str = await page.locator("#track-artwork").evaluate("el => getComputedStyle(el).filter")
    return value


async def test_track_page_banner_reveal_and_row_chip(
    plyr: PlyrServer,
    alice: SignedIn,
    anyone: BrowserContext,
    signed_in: BrowserContext,
    tmp_path: Path,
) -> None:
    track_id = await labelled_track_with_art(plyr, alice, tmp_path)
    page = await anyone.new_page()
    await page.goto(f"{plyr.url}/tracks/{track_id}")
    banner = page.locator("#content-warning")
    await expect(banner).to_have_text(
        "⚠ content warning: sexually suggestive, nudity. the artist marked this track; "
        "its artwork is blurred until you show it."
    )
    assert "blur" in await artwork_filter(page)
    reveal = page.get_by_role("checkbox", name="show artwork")
    await expect(reveal).to_be_visible()
    await shots(page, "track")

    # Reachable from the top of the page with Tab alone; Space shows the artwork.
    await page.locator("body").focus()
    for _ in range(60):
        await page.keyboard.press("Tab")
        if await reveal.evaluate("el => el === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached the “show artwork” control")
    await page.keyboard.press("Space")
    await expect(reveal).to_be_checked()
    async with asyncio.timeout(5):
        while await artwork_filter(page) != "none":
            await page.wait_for_timeout(50)
    await page.screenshot(path=SHOTS / "content-warnings-track-shown-1280.png")

    # The chip in the artist page's rows names the warnings.
    await page.goto(f"{plyr.url}/artists/{alice.did}")
    row = page.locator(".track-row", has=page.get_by_role("link", name="a warned cover"))
    chip = row.locator("[data-content-warning]")
    await expect(chip).to_have_text("⚠content warning: sexually suggestive, nudity")
    await expect(chip).to_be_visible()
    for label, (width, height) in VIEWPORTS.items():
        await page.set_viewport_size({"width": width, "height": height})
        await row.scroll_into_view_if_needed()
        await no_sideways_scroll(page)
        await expect(chip).to_be_visible()
        await page.screenshot(path=SHOTS / f"content-warnings-row-{label}.png")
    await page.close()

    # The artist's edit form: the boxes show what is set; the keyboard changes it.
    own = await signed_in.new_page()
    await own.goto(f"{plyr.url}/tracks/{track_id}")
    assert "blur" not in await own.locator(".track-head img").evaluate(
        "el => getComputedStyle(el).filter"
    )
    edit = own.get_by_role("group", name="content warnings")
    await expect(edit.get_by_role("checkbox", name="sexually suggestive")).to_be_checked()
    await expect(edit.get_by_role("checkbox", name="nudity")).to_be_checked()
    await own.focus("#edit-description")
    for _ in range(4):
        await own.keyboard.press("Tab")
    assert (await focused(own))["label"] == "graphic content"
    await own.keyboard.press("Space")
    await own.keyboard.press("Shift+Tab")
    await own.keyboard.press("Space")  # nudity off
    await own.get_by_role("button", name="save changes").click()
    await own.wait_for_url(f"{plyr.url}/tracks/{track_id}")
    async with httpx.AsyncClient(base_url=plyr.url) as http:
        track = (await http.get(f"/api/tracks/{track_id}")).json()
    assert track["self_labels"] == ["sexual", "graphic-media"]
    await expect(own.locator("#content-warning")).to_contain_text(
        "sexually suggestive, graphic content. you marked this track"
    )
    for label, (width, height) in VIEWPORTS.items():
        await own.set_viewport_size({"width": width, "height": height})
        await edit.scroll_into_view_if_needed()
        await no_sideways_scroll(own)
        await own.screenshot(path=SHOTS / f"content-warnings-edit-{label}.png")
    await own.close()
