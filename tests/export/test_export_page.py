"""The portal's export section in Chromium: "export everything" starts the job from the
keyboard, an ARIA progressbar follows it, then a download link with its expiry gives the
zip; "download now" points at the streamed export. Screenshots of the section at 1280 and
375 px in the dark and light themes, ready and mid-way (test-artifacts/export-*.png)."""

from __future__ import annotations

import json
import zipfile
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Locator

from plyr.atproto.devnet import Network
from plyr.auth.sessions import COOKIE_NAME
from plyr.db.models import Export
from tests.support.browser import ARTIFACTS
from tests.support.exports import Library
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, sign_in

pytestmark = pytest.mark.browser

SIZES = ((1280, 900), (375, 760))


async def _signed_in(
    browser: Browser, plyr: PlyrServer, user: SignedIn, width: int, height: int, scheme: Any
) -> BrowserContext:
    context = await browser.new_context(
        viewport={"width": width, "height": height}, color_scheme=scheme, accept_downloads=True
    )
    host = plyr.url.removeprefix("http://").split(":")[0]
    await context.add_cookies(
        [{"name": COOKIE_NAME, "value": user.cookie, "domain": host, "path": "/"}]
    )
    return context


def _section(context_page: Any) -> Locator:
    return context_page.get_by_role("region", name="export everything")


async def test_export_everything_from_the_portal(
    browser: Browser, plyr: PlyrServer, alice: SignedIn, library: Library
) -> None:
    context = await _signed_in(browser, plyr, alice, 1280, 900, "dark")
    page = await context.new_page()
    await page.goto(f"{plyr.url}/portal")
    section = _section(page)
    now = section.get_by_role("link", name="download now")
    assert await now.get_attribute("href") == "/api/me/export"
    bar = section.get_by_role("progressbar")
    assert not await bar.is_visible()

    start = section.get_by_role("button", name="export everything")
    await start.focus()
    await page.keyboard.press("Enter")  # a form button: the keyboard starts it too
    # A small library may be ready before the bar could be looked at (a hidden bar leaves
    # the accessibility tree): its range is read from the element, shown or not; the bar
    # mid-way, and the button disabled meanwhile, are the next test's.
    element = section.locator('[role="progressbar"]')
    assert await element.get_attribute("aria-valuemin") == "0"
    assert await element.get_attribute("aria-valuemax") == "100"

    link = section.get_by_role("link", name="download the zip")
    await link.wait_for(state="visible", timeout=60_000)
    await bar.wait_for(state="hidden")
    assert (await section.get_by_role("status").inner_text()).startswith("ready: ")
    assert "the link works until" in await section.inner_text()
    assert not await start.is_disabled()
    async with page.expect_download() as started:
        await link.click()
    download = await started.value
    assert download.suggested_filename.startswith("plyr-alice.test-")
    saved = await download.path()
    with zipfile.ZipFile(saved) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["user"]["did"] == alice.did
    assert {t.id for t in library.tracks} <= {t["id"] for t in manifest["tracks"]}
    await context.close()

    # Coming back later: the ready export and its link are there, rendered by the server.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width, height in SIZES:
        for scheme in ("dark", "light"):
            context = await _signed_in(browser, plyr, alice, width, height, scheme)
            page = await context.new_page()
            await page.goto(f"{plyr.url}/portal")
            section = _section(page)
            await section.get_by_role("link", name="download the zip").wait_for()
            box = await section.bounding_box()
            assert box is not None
            assert box["width"] <= width  # nothing sticks out at phone width
            await section.screenshot(path=ARTIFACTS / f"export-ready-{width}-{scheme}.png")
            await context.close()


async def test_an_export_under_way_shows_its_progress(
    browser: Browser, plyr: PlyrServer, atproto_net: Network
) -> None:
    """carol's export is mid-way (a row as the job leaves it): the bar says how far."""
    carol = await sign_in(browser, plyr, atproto_net, "carol.test")
    async with plyr.runtime.sessions() as db:
        db.add(
            Export(
                id="00000000-0000-4000-8000-0000000000c0",
                did=carol.did,
                status="running",
                progress=0.42,
                files=7,
            )
        )
        await db.commit()
    for width, height in SIZES:
        for scheme in ("dark", "light"):
            context = await _signed_in(browser, plyr, carol, width, height, scheme)
            page = await context.new_page()
            await page.goto(f"{plyr.url}/portal")
            section = _section(page)
            bar = section.get_by_role("progressbar")
            await bar.wait_for()
            assert await bar.get_attribute("aria-valuenow") == "42"
            state = await section.get_by_role("status").inner_text()
            assert state == "packing your files: 7 so far, 42 %"
            assert await section.get_by_role("button", name="export everything").is_disabled()
            assert not await section.get_by_role("link", name="download the zip").is_visible()
            await section.screenshot(path=ARTIFACTS / f"export-running-{width}-{scheme}.png")
            await context.close()
