"""The upload page in Chromium when the file is bad: the failure is shown, red, with its
reason, whether the server refuses the file at once or processing fails it later (the
progress stream's `failed` event), and again after a reload. Screenshots of the failed
state at 1280 and 375 px go to $PLYR_TEST_SHOTS (default: test-artifacts/)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from plyr.auth.sessions import COOKIE_NAME
from tests.support.audio import make_audio, make_text, make_truncated
from tests.support.browser import ARTIFACTS
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("PLYR_TEST_SHOTS", str(ARTIFACTS)))
VIEWPORTS = {"desktop": (1280, 800), "phone": (375, 740)}


@pytest.fixture
async def context(
    browser: Browser, plyr: PlyrServer, alice: SignedIn
) -> AsyncIterator[BrowserContext]:
    """A browser signed in as alice (her session cookie)."""
    new = await browser.new_context()
    host = plyr.url.split("//", 1)[1].split(":")[0]
    await new.add_cookies(
        [{"name": COOKIE_NAME, "value": alice.cookie, "domain": host, "path": "/"}]
    )
    yield new
    await new.close()


async def _send(page: Page, plyr: PlyrServer, audio: Path) -> None:
    await page.goto(f"{plyr.url}/upload")
    await page.locator("#file").set_input_files(audio)
    await page.get_by_role("button", name="upload").click()


async def _shows_failure(page: Page, reason: str) -> None:
    """The panel is in its failed state: red border and full red bar, the reason as an
    alert in the text colour (readable on the tinted panel)."""
    panel = page.locator("#upload-progress")
    await expect(panel).to_have_attribute("data-state", "failed", timeout=30_000)
    await expect(page.locator("#progress-title")).to_have_text("the upload did not go through")
    await expect(page.get_by_role("alert")).to_contain_text(reason)
    colours = await page.evaluate(
        """() => {
            const colour = (value) => {
                const probe = document.createElement("span");
                probe.style.color = value;
                document.body.append(probe);
                const computed = getComputedStyle(probe).color;
                probe.remove();
                return computed;
            };
            const panel = document.getElementById("upload-progress");
            const bar = panel.querySelector(".progress-fill");
            return {
                danger: colour("var(--danger)"),
                text: colour("var(--text)"),
                border: getComputedStyle(panel).borderTopColor,
                bar: getComputedStyle(bar).backgroundColor,
                filled: bar.getBoundingClientRect().width / bar.parentElement.clientWidth,
                reason: getComputedStyle(panel.querySelector(".alert-text")).color,
            };
        }"""
    )
    assert colours["border"] == colours["bar"] == colours["danger"], colours
    assert colours["reason"] == colours["text"], colours
    assert colours["filled"] > 0.99, colours
    await expect(page.locator("#upload-form")).to_be_visible()  # ready for another try


async def test_a_file_failed_by_processing_shows_red_with_its_reason(
    plyr: PlyrServer, context: BrowserContext, tmp_path: Path
) -> None:
    await anyio.Path(SHOTS).mkdir(parents=True, exist_ok=True)
    page = await context.new_page()
    for index, (label, (width, height)) in enumerate(VIEWPORTS.items()):
        await page.set_viewport_size({"width": width, "height": height})
        # Its first second decodes, so it is accepted; the job finds it cut off.
        flac = make_audio(tmp_path / f"{label}.flac", "flac", seconds=8.0, freq=500 + index)
        cut = make_truncated(flac, tmp_path / f"cut-{label}.flac", flac.stat().st_size // 2)
        await _send(page, plyr, cut)
        await _shows_failure(page, "this file can't be decoded")
        await expect(page.get_by_role("alert")).to_contain_text("truncated")
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
        await page.screenshot(path=SHOTS / f"upload-corrupt-{label}.png", full_page=True)
    # A reload (the upload id is in the address) shows the same failure, server-rendered.
    assert "upload=" in page.url
    await page.reload()
    await _shows_failure(page, "this file can't be decoded")
    await page.close()


async def test_a_file_refused_at_once_shows_red_with_its_reason(
    plyr: PlyrServer, context: BrowserContext, tmp_path: Path
) -> None:
    page = await context.new_page()
    await _send(page, plyr, make_text(tmp_path / "liner-notes.mp3"))
    await _shows_failure(page, "not an audio format we accept")
    await page.close()
