"""The queue in Chromium against a running plyr (web + worker, real uploads, the real PDS):
"play next" and "add to queue" on listing rows and from the ctrl+k dialog (shift+enter),
reordering by touch and by keyboard at phone width, and the queue kept across navigation
and a reload. Repeat and shuffle at a track's end: tests/test_player_repeat.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from plyr.atproto.devnet import Network
from tests.support.browser import ARTIFACTS, track_navigations
from tests.support.plyr_server import PlyrServer
from tests.support.queue_player import (
    STATE,
    fresh_page,
    publish_short_tracks,
    touch_drag,
    wait_for_queue,
)
from tests.test_player import plyr  # noqa: F401 - a plyr with a worker, on the devnet

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


@pytest.fixture(scope="module")
async def tracks(
    browser: Browser,
    plyr: PlyrServer,  # noqa: F811
    atproto_net: Network,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[BrowserContext, dict[str, int]]]:
    """Alice's signed-in context and her four short tracks' ids by title."""
    context, ids = await publish_short_tracks(
        browser, plyr, atproto_net, tmp_path_factory.mktemp("queue-audio")
    )
    yield context, ids
    await context.close()


async def sideways(page: Page) -> int:
    overflow: int = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return overflow


async def shoot(page: Page, name: str, full_page: bool = False) -> None:
    """Screenshots in the dark and the light theme."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for theme in ("dark", "light"):
        await page.evaluate(f"document.documentElement.dataset.theme = '{theme}'")
        await page.screenshot(path=ARTIFACTS / f"queue-{name}-{theme}.png", full_page=full_page)


async def test_play_next_and_add_from_listing_rows(
    plyr: PlyrServer,  # noqa: F811
    page: Page,
    tracks: tuple[BrowserContext, dict[str, int]],
) -> None:
    _, ids = tracks
    await page.goto(f"{plyr.url}/")  # a fresh browser: an empty queue
    navigations = track_navigations(page)
    before = len(navigations)
    main = page.locator("main")
    add = main.get_by_role("button", name="add alpha tone to the queue").first
    await add.click()
    await expect(page.locator("#toasts")).to_contain_text("added “alpha tone” to the queue")
    await main.get_by_role("button", name="add bravo tone to the queue").first.click()
    await main.get_by_role("button", name="play next: charlie tone").first.click()
    await expect(page.locator("#toasts")).to_contain_text("“charlie tone” plays next")
    await wait_for_queue(page, [ids["alpha tone"], ids["charlie tone"], ids["bravo tone"]])
    assert len(navigations) == before  # buttons, not links: the page stays
    assert await page.evaluate("document.getElementById('player-audio').paused")

    # The artist's page (reached through htmx) and the search page have the same buttons.
    await main.get_by_role("link", name="alpha tone").first.click()
    await page.wait_for_url("**/tracks/*")
    await page.locator("main .track-head").get_by_role("link").first.click()
    await page.wait_for_url("**/artists/*")
    await main.get_by_role("button", name="play next: delta tone").first.click()
    expected = [ids[t] for t in ("alpha tone", "delta tone", "charlie tone", "bravo tone")]
    await wait_for_queue(page, expected)
    await page.goto(f"{plyr.url}/search?q=bravo")
    hit_row = main.locator(".search-hit-row").filter(has_text="bravo tone")
    await hit_row.get_by_role("button", name="add bravo tone to the queue").click()
    await wait_for_queue(page, [*expected, ids["bravo tone"]])

    # Phone width: the rows keep their buttons on screen, nothing scrolls sideways.
    await page.set_viewport_size(PHONE)
    for path in ("/", "/search?q=tone", "/artists/alice.test"):
        await page.goto(f"{plyr.url}{path}")
        assert await sideways(page) <= 0, f"{path} scrolls sideways"
        for button in await main.locator("[data-queue-next], [data-queue-add]").all():
            box = await button.bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= PHONE["width"]
            assert box["height"] >= 36  # a finger's target
    await shoot(page, "artist-375", full_page=True)
    await page.goto(f"{plyr.url}/search?q=tone")
    await shoot(page, "search-page-375", full_page=True)
    await page.goto(f"{plyr.url}/")
    await shoot(page, "rows-375", full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 800})
    await shoot(page, "rows-1280")


async def test_shift_enter_in_ctrl_k_adds_the_highlighted_track(
    plyr: PlyrServer,  # noqa: F811
    page: Page,
    tracks: tuple[BrowserContext, dict[str, int]],
) -> None:
    _, ids = tracks
    await page.goto(f"{plyr.url}/")
    await page.wait_for_function("() => window.plyrPlayer !== undefined")
    await page.keyboard.press("Control+k")
    dialog = page.locator("#search-dialog")
    await expect(dialog).to_be_visible()
    await page.get_by_role("combobox", name="search tracks, artists").press_sequentially(
        "charlie", delay=30
    )
    listbox = page.get_by_role("listbox", name="search results")
    first = listbox.get_by_role("group", name="tracks").get_by_role("option").first
    await expect(first).to_contain_text("charlie tone")
    await expect(first).to_have_attribute("aria-selected", "true")
    status = dialog.locator("[data-search-status]")
    await expect(status).to_contain_text("shift+enter to add a track to the queue")
    await expect(first.locator(".search-queue-hint")).to_be_visible()
    await shoot(page, "search-1280")

    await page.keyboard.press("Shift+Enter")
    await wait_for_queue(page, [ids["charlie tone"]])
    await expect(status).to_have_text("added “charlie tone” to the queue")
    await expect(dialog).to_be_visible()  # still searching: more can be added
    await page.keyboard.press("Control+a")
    await page.keyboard.type("delta")
    await expect(first).to_contain_text("delta tone")
    await page.keyboard.press("Shift+Enter")
    await wait_for_queue(page, [ids["charlie tone"], ids["delta tone"]])

    await page.set_viewport_size(PHONE)
    await expect(first.locator(".search-queue-hint")).to_be_visible()
    assert await sideways(page) <= 0
    await shoot(page, "search-375")
    await page.set_viewport_size({"width": 1280, "height": 800})

    # Enter still opens the track, as before.
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/tracks/{ids['delta tone']}")
    await expect(dialog).to_be_hidden()


async def queue_titles(page: Page) -> list[str]:
    texts = await page.locator("#queue-list .queue-play").all_inner_texts()
    return [text.split(" · ")[0] for text in texts]


async def test_touch_and_keyboard_reorder_at_phone_width(
    browser: Browser,
    plyr: PlyrServer,  # noqa: F811
    tracks: tuple[BrowserContext, dict[str, int]],
) -> None:
    context = await browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        page = await fresh_page(context, f"{plyr.url}/")
        main = page.locator("main")
        for title in ("alpha tone", "bravo tone", "charlie tone"):
            await main.get_by_role("button", name=f"add {title} to the queue").first.tap()
        await page.wait_for_function(f"() => {STATE}.tracks.length === 3")
        await page.get_by_role("button", name="queue", exact=True).tap()
        rows = page.locator("#queue-list .queue-item")
        await expect(rows).to_have_count(3)
        assert await queue_titles(page) == ["alpha tone", "bravo tone", "charlie tone"]

        # A finger drags charlie's handle above alpha.
        grip = await rows.nth(2).locator("[data-grip]").bounding_box()
        top = await rows.nth(0).bounding_box()
        assert grip is not None
        assert top is not None
        start = (grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
        await touch_drag(page, start, (start[0], top["y"] + 4))
        await expect(rows.first).to_contain_text("charlie tone")
        assert await queue_titles(page) == ["charlie tone", "alpha tone", "bravo tone"]
        # …and a short drag down by one row.
        grip = await rows.nth(0).locator("[data-grip]").bounding_box()
        second = await rows.nth(1).bounding_box()
        assert grip is not None
        assert second is not None
        start = (grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
        await touch_drag(page, start, (start[0], second["y"] + second["height"] * 0.75))
        await expect(rows.first).to_contain_text("alpha tone")
        assert await queue_titles(page) == ["alpha tone", "charlie tone", "bravo tone"]

        # The keyboard: alt+↓ on a row moves it and keeps focus on it.
        panel = page.locator("#queue-panel")
        alpha = panel.get_by_role("button", name="play alpha tone", exact=True)
        await alpha.focus()
        await page.keyboard.press("Alt+ArrowDown")
        assert await queue_titles(page) == ["charlie tone", "alpha tone", "bravo tone"]
        await expect(
            panel.get_by_role("button", name="play alpha tone", exact=True)
        ).to_be_focused()
        await page.keyboard.press("Alt+ArrowDown")
        assert await queue_titles(page) == ["charlie tone", "bravo tone", "alpha tone"]
        # The ↑ button, pressed with the keyboard, keeps focus on the moved row's ↑.
        up = panel.get_by_role("button", name="move bravo tone up")
        await up.focus()
        await page.keyboard.press("Enter")
        assert await queue_titles(page) == ["bravo tone", "charlie tone", "alpha tone"]
        await expect(panel.get_by_role("button", name="move bravo tone up")).to_be_disabled()
        await expect(
            panel.get_by_role("button", name="play bravo tone", exact=True)
        ).to_be_focused()
        assert await sideways(page) <= 0
        await shoot(page, "panel-375")
    finally:
        await context.close()


async def test_queue_repeat_and_shuffle_survive_navigation_and_reload(
    plyr: PlyrServer,  # noqa: F811
    tracks: tuple[BrowserContext, dict[str, int]],
) -> None:
    context, ids = tracks
    page = await context.new_page()
    # Signed in, the page asks the server for the queue as it starts: let that answer land
    # before changing the queue (or it replaces what was added meanwhile).
    async with page.expect_response(lambda r: r.url.endswith("/api/queue")):
        await page.goto(f"{plyr.url}/")
    await page.wait_for_function("() => window.plyrPlayer !== undefined")
    main = page.locator("main")
    for title in ("alpha tone", "bravo tone", "charlie tone", "delta tone"):
        await main.get_by_role("button", name=f"add {title} to the queue").first.click()
    listed = [ids[t] for t in ("alpha tone", "bravo tone", "charlie tone", "delta tone")]
    await wait_for_queue(page, listed)
    await page.get_by_role("button", name="queue", exact=True).click()
    panel = page.locator("#queue-panel")
    repeat = panel.locator("[data-queue-repeat]")
    shuffle = panel.get_by_role("button", name="shuffle")
    await repeat.click()
    await repeat.click()
    await expect(repeat).to_have_text("repeat one")
    await shuffle.click()
    await expect(shuffle).to_have_attribute("aria-pressed", "true")
    kept = "JSON.stringify([s.tracks.map((t) => t.id), s.current, s.order, s.repeat, s.shuffle])"
    before = await page.evaluate(f"(() => {{ const s = {STATE}; return {kept}; }})()")
    await shoot(page, "panel-1280")

    # Navigation through htmx keeps the player; a reload reads it back.
    await main.get_by_role("link", name="bravo tone").first.click()
    await page.wait_for_url("**/tracks/*")
    assert await page.evaluate(f"(() => {{ const s = {STATE}; return {kept}; }})()") == before
    await page.reload()
    await page.wait_for_function("() => window.plyrPlayer !== undefined")
    assert await page.evaluate(f"(() => {{ const s = {STATE}; return {kept}; }})()") == before
    await page.get_by_role("button", name="queue", exact=True).click()
    await expect(repeat).to_have_text("repeat one")
    await expect(repeat).to_have_attribute("aria-pressed", "true")
    await expect(shuffle).to_have_attribute("aria-pressed", "true")
    # The server keeps the tracks in their listed order (shuffle is this device's).
    cookies = {c["name"]: c["value"] for c in await context.cookies()}
    async with httpx.AsyncClient(base_url=plyr.url, cookies=cookies, timeout=30) as http:
        for _ in range(60):
            saved = [t["id"] for t in (await http.get("/api/queue")).json()["tracks"]]
            if saved == listed:
                break
            await page.wait_for_timeout(250)
    assert saved == listed

    # A queue saved before repeat had modes (`repeat: true`) reads as repeat all. (Written
    # from a page without the player, which would save its own state as it leaves.)
    await page.goto(f"{plyr.url}/static/favicon.svg")
    await page.evaluate(
        """() => {
        const saved = JSON.parse(localStorage.getItem("plyr.queue"));
        saved.repeat = true;
        delete saved.order;
        localStorage.setItem("plyr.queue", JSON.stringify(saved));
    }"""
    )
    await page.goto(f"{plyr.url}/")
    await page.get_by_role("button", name="queue", exact=True).click()
    await expect(repeat).to_have_text("repeat all")
    order = await page.evaluate(f"{STATE}.order")
    assert sorted(order) == [0, 1, 2, 3]  # shuffled still: the order made whole again
    await page.close()
