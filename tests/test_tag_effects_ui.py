"""Tag effects in Chromium, with a folder of real images (an animated GIF, PNG, WebP, JPEG):
on a `bufo` track's page the images drift across the screen without taking a click, the
keyboard-reachable box hides them (remembered on the next page), an untagged track has
none, and with reduced motion they stand still in a row, the GIF as its first frame.
Screenshots at 1280 and 375 px, dark and light, go to test-artifacts/tag-effects-*.png."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from tests.conftest import make_settings
from tests.support.browser import ARTIFACTS
from tests.support.databases import clear_tables
from tests.support.effect_images import effect_folder, tagged_track
from tests.support.plyr_server import PlyrServer, running_plyr

pytestmark = pytest.mark.browser

VIEWPORTS = {"1280": (1280, 800), "375": (375, 740)}
COUNT = 6
TITLE = "Rainy Night Dance"


@pytest.fixture(scope="module")
async def plyr(tmp_path_factory: pytest.TempPathFactory, db_url: str) -> AsyncIterator[PlyrServer]:
    folder = tmp_path_factory.mktemp("plyr-effects")
    settings = make_settings(
        folder,
        db_url,
        tag_effects_dir=effect_folder(folder / "frogs"),
        tag_effects_exclude="bigbufo_*",
        tag_effects_count=COUNT,
    )
    async with running_plyr(settings) as server:
        yield server
        await clear_tables(server.runtime.engine)


@pytest.fixture(scope="module")
async def tracks(plyr: PlyrServer) -> dict[str, int]:
    return {
        "tagged": await tagged_track(plyr.runtime, TITLE, ["bufo", "swamp"]),
        "also": await tagged_track(plyr.runtime, "Coffee Morning", ["bufo"]),
        "plain": await tagged_track(plyr.runtime, TITLE, ["swamp"]),
    }


async def images_loaded(page: Page) -> None:
    await page.wait_for_function(
        """(n) => {
          const imgs = [...document.querySelectorAll('.tag-effect-layer img')];
          return imgs.length === n && imgs.every((img) => img.complete && img.naturalWidth > 0);
        }""",
        arg=COUNT,
    )


async def no_sideways_scroll(page: Page) -> None:
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


async def shots(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for theme in ("dark", "light"):
        await page.evaluate(f"document.documentElement.dataset.theme = '{theme}'")
        for label, (width, height) in VIEWPORTS.items():
            await page.set_viewport_size({"width": width, "height": height})
            await images_loaded(page)
            await no_sideways_scroll(page)
            await page.screenshot(path=ARTIFACTS / f"tag-effects-{name}-{theme}-{label}.png")
    await page.set_viewport_size({"width": 1280, "height": 800})


# Whatever is under the middle of each image on screen: never the image (clicks go through).
UNDER_SPRITES = """() => [...document.querySelectorAll('.tag-effect-layer img')].flatMap((img) => {
  const r = img.getBoundingClientRect();
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) return [];
  const hit = document.elementFromPoint(x, y);
  return [hit ? hit.closest('.tag-effect-layer') === null : true];
})"""


async def test_a_tagged_track_has_drifting_images_that_never_block(
    plyr: PlyrServer, tracks: dict[str, int], page: Page
) -> None:
    await page.goto(f"{plyr.url}/tracks/{tracks['tagged']}")
    layer = page.locator(".tag-effect-layer")
    await expect(layer).to_have_attribute("aria-hidden", "true")
    await images_loaded(page)
    names = await layer.locator("img").evaluate_all(
        "(imgs) => imgs.map((img) => img.dataset.tagEffectImage)"
    )
    assert set(names[:2]) == {"bufo-dance.gif", "bufo_sleepy_night.webp"}  # dance, night
    assert not any(name.startswith("bigbufo") for name in names)
    for img in await layer.locator("img").all():
        assert await img.get_attribute("alt") == ""

    style = await page.evaluate(
        """() => {
          const layer = getComputedStyle(document.querySelector('.tag-effect-layer'));
          const sprite = getComputedStyle(document.querySelector('.tag-effect-sprite'));
          return [layer.position, layer.pointerEvents, sprite.animationName,
                  sprite.animationIterationCount];
        }"""
    )
    assert style[:2] == ["fixed", "none"]
    assert style[2] in ("tag-drift-left", "tag-drift-right")
    assert style[3] == "infinite"
    # They move: a sprite is somewhere else a moment later.
    first = page.locator(".tag-effect-sprite").first
    start = await first.bounding_box()
    await page.wait_for_function(
        """(x0) => Math.abs(document.querySelector('.tag-effect-sprite')
                      .getBoundingClientRect().x - x0) > 4""",
        arg=start["x"] if start else 0,
    )
    # Nothing under an image is covered by it, and the buttons beneath still take clicks.
    under = await page.evaluate(UNDER_SPRITES)
    assert under
    assert all(under)
    await shots(page, "drifting")
    await page.get_by_role("button", name="add to queue").click(timeout=5_000)
    await expect(page.locator("#toasts")).to_contain_text("to the queue")

    # Untagged: no effect at all.
    await page.goto(f"{plyr.url}/tracks/{tracks['plain']}")
    await expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    await expect(page.locator(".tag-effect")).to_have_count(0)


async def test_the_box_hides_it_by_keyboard_and_is_remembered(
    plyr: PlyrServer, tracks: dict[str, int], page: Page
) -> None:
    await page.goto(f"{plyr.url}/tracks/{tracks['tagged']}")
    box = page.get_by_role("checkbox", name="hide the #bufo effect")
    await expect(box).not_to_be_checked()
    await expect(page.locator(".tag-effect-sprite").first).to_be_visible()
    # Reached with Tab like any control, ticked with Space.
    for _ in range(60):
        await page.keyboard.press("Tab")
        if await box.evaluate("(el) => el === document.activeElement"):
            break
    await expect(box).to_be_focused()
    await page.keyboard.press("Space")
    await expect(box).to_be_checked()
    await expect(page.locator(".tag-effect-layer")).to_be_hidden()

    # Another bufo track reached through the links (htmx swaps the page), then a fresh
    # load: still hidden.
    await page.locator(".track-info").get_by_role("link", name="frogs").click()
    await page.get_by_role("link", name="Coffee Morning").first.click()
    await page.wait_for_url(f"**/tracks/{tracks['also']}")
    await expect(page.get_by_role("checkbox", name="hide the #bufo effect")).to_be_checked()
    await expect(page.locator(".tag-effect-layer")).to_be_hidden()
    await page.goto(f"{plyr.url}/tracks/{tracks['tagged']}")
    await expect(page.get_by_role("checkbox", name="hide the #bufo effect")).to_be_checked()
    await expect(page.locator(".tag-effect-layer")).to_be_hidden()
    await page.get_by_role("checkbox", name="hide the #bufo effect").uncheck()
    await expect(page.locator(".tag-effect-layer")).to_be_visible()
    await page.reload()
    await expect(page.get_by_role("checkbox", name="hide the #bufo effect")).not_to_be_checked()


async def test_reduced_motion_shows_still_images(
    plyr: PlyrServer, tracks: dict[str, int], browser: Browser
) -> None:
    context = await browser.new_context(reduced_motion="reduce")
    page = await context.new_page()
    try:
        await page.goto(f"{plyr.url}/tracks/{tracks['tagged']}")
        await images_loaded(page)
        found = await page.evaluate(
            """() => {
              const layer = document.querySelector('.tag-effect-layer');
              const sprites = [...layer.querySelectorAll('.tag-effect-sprite')];
              return {
                position: getComputedStyle(layer).position,
                animations: sprites.map((s) => getComputedStyle(s).animationName),
                shown: sprites.filter((s) => s.offsetParent !== null).length,
                sources: Object.fromEntries(sprites.map((s) => {
                  const img = s.querySelector('img');
                  return [img.dataset.tagEffectImage, new URL(img.currentSrc).pathname];
                })),
              };
            }"""
        )
        assert found["position"] == "static"
        assert set(found["animations"]) == {"none"}
        assert found["shown"] == 4  # each image once: four are left after the exclusion
        assert found["sources"]["bufo-dance.gif"] == "/tag-effects/bufo-dance.gif/still"
        assert found["sources"]["bufo-coffee.jpg"] == "/tag-effects/bufo-coffee.jpg"
        await expect(page.get_by_role("checkbox", name="hide the #bufo effect")).to_be_visible()
        await shots(page, "still")
    finally:
        await context.close()
