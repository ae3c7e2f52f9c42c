"""The search dialog and page in Chromium: ctrl+k from any page, grouped results, arrows and
enter to a track page, esc back to where focus was; screenshots at desktop and phone width."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from tests.conftest import make_settings
from tests.support.browser import ARTIFACTS
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.search_catalogue import add_catalogue

pytestmark = pytest.mark.browser

# What a signed-in header adds at the right (upload, a long handle, sign out), to check the
# phone header still fits without signing in through a PDS.
SIGNED_IN_ACCOUNT = """
document.querySelector('.account').innerHTML = `
  <a href="/upload" class="button small-button">upload</a>
  <a href="/settings" class="account-handle">@a-rather-long-handle.bsky.social</a>
  <form class="inline-form header-sign-out"><button class="link-button">sign out</button></form>`;
document.querySelector('.site-header nav').insertAdjacentHTML('beforeend',
  '<a href="/library">library</a><a href="/portal" class="nav-secondary">my tracks</a>');
"""


@pytest.fixture(scope="module")
async def plyr(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PlyrServer]:
    folder = tmp_path_factory.mktemp("plyr-search")
    settings = make_settings(folder, f"sqlite+aiosqlite:///{folder / 'plyr.db'}")
    async with running_plyr(settings) as server:
        await add_catalogue(server.runtime)
        yield server


async def sideways(page: Page) -> int:
    overflow: int = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return overflow


async def test_ctrl_k_arrows_enter_and_escape(plyr: PlyrServer, page: Page) -> None:
    await page.goto(f"{plyr.url}/tags/swamp")
    dialog = page.locator("#search-dialog")
    search_input = page.get_by_role("combobox", name="search tracks, artists")
    await expect(dialog).to_be_hidden()

    # esc gives focus back to what had it
    opener = page.get_by_role("link", name="search (ctrl+k)")
    await opener.focus()
    await page.keyboard.press("Control+k")
    await expect(dialog).to_be_visible()
    await expect(search_input).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(opener).to_be_focused()

    await page.locator("body").click(position={"x": 5, "y": 300})
    await page.keyboard.press("/")
    await expect(dialog).to_be_visible()
    await search_input.press_sequentially("night", delay=30)
    listbox = page.get_by_role("listbox", name="search results")
    await expect(listbox.get_by_role("group", name="tracks")).to_be_visible()
    await expect(listbox.get_by_role("group", name="artists")).to_contain_text("nightowl.test")
    tracks = listbox.get_by_role("group", name="tracks").get_by_role("option")
    await expect(tracks).to_have_count(5)
    await expect(tracks.first).to_contain_text("Night")
    await expect(tracks.first).to_have_attribute("aria-selected", "true")
    await expect(search_input).to_have_attribute("aria-expanded", "true")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "search-dialog-desktop.png")

    await page.keyboard.press("ArrowDown")
    await expect(tracks.nth(1)).to_have_attribute("aria-selected", "true")
    option_id = await tracks.nth(1).get_attribute("id")
    await expect(search_input).to_have_attribute("aria-activedescendant", option_id or "")
    await page.keyboard.press("ArrowUp")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{plyr.url}/tracks/13")
    await expect(page.locator("main h1")).to_contain_text("Nightfall")
    await expect(dialog).to_be_hidden()
    # htmx navigation: the dialog is still there, and opens again on the new page
    await page.keyboard.press("Control+k")
    await expect(dialog).to_be_visible()
    await expect(search_input).to_have_value("night")


async def test_stale_answers_are_dropped(plyr: PlyrServer, page: Page) -> None:
    """A slow answer to an earlier keystroke never replaces the later one's results."""
    await page.goto(f"{plyr.url}/")

    async def slow_first(route: object) -> None:
        import asyncio

        request = route.request  # type: ignore[attr-defined]
        if "q=bufo&" in request.url or request.url.endswith("q=bufo"):
            await asyncio.sleep(1.0)
        await route.continue_()  # type: ignore[attr-defined]

    await page.route("**/api/search?*", slow_first)
    await page.keyboard.press("Control+k")
    search_input = page.locator("#search-input")
    await search_input.fill("bufo")
    await page.wait_for_timeout(300)  # past the debounce: the slow request is on its way
    await search_input.fill("radiohed")
    listbox = page.locator("#search-results")
    await expect(listbox.get_by_role("group", name="artists")).to_contain_text("Radiohead")
    await page.wait_for_timeout(1200)  # the slow "bufo" answer arrives now
    await expect(listbox.get_by_role("group", name="artists")).to_contain_text("Radiohead")
    await expect(listbox).not_to_contain_text("Bufos")


async def test_screens_at_desktop_and_phone(plyr: PlyrServer, browser: Browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for width, height, label in ((1280, 800, "desktop"), (375, 740, "phone")):
        context = await browser.new_context(viewport={"width": width, "height": height})
        page = await context.new_page()
        await page.goto(f"{plyr.url}/search?q=radio")
        await expect(page.get_by_role("heading", name="artists")).to_be_visible()
        if await sideways(page):
            problems.append(f"/search scrolls sideways at {width}px")
        await page.screenshot(path=ARTIFACTS / f"search-page-{label}.png", full_page=True)

        await page.evaluate(SIGNED_IN_ACCOUNT)
        if overflow := await sideways(page):
            problems.append(f"a signed-in header scrolls sideways by {overflow}px at {width}px")
        await page.screenshot(path=ARTIFACTS / f"search-header-signed-in-{label}.png")

        await page.goto(f"{plyr.url}/")
        await page.get_by_role("link", name="search (ctrl+k)").click()
        await page.locator("#search-input").fill("bufo")
        await expect(page.locator("#search-results [role=option]").first).to_be_visible()
        box = await page.locator("#search-dialog").bounding_box()
        assert box is not None
        if box["x"] < 0 or box["x"] + box["width"] > width:
            problems.append(f"the dialog does not fit at {width}px: {box}")
        await page.screenshot(path=ARTIFACTS / f"search-dialog-{label}.png")
        await context.close()
    assert not problems, problems
