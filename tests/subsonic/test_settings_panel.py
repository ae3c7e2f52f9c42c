"""The settings page's "subsonic players" panel in Chromium: it names the server and the
username, makes an app password and shows it once (a reload does not), makes a new one
(the old one stops working) and removes it; a player signs in with what the page showed.
At 1280 and 375 px, dark and light, nothing scrolls sideways; screenshots in
test-artifacts/."""

from __future__ import annotations

import re
from typing import Literal

import pytest
from libopensonic import errors
from playwright.async_api import Page, expect

from plyr.atproto.devnet import Network
from tests.subsonic.conftest import opensonic
from tests.support.browser import ARTIFACTS, sign_in_to_plyr
from tests.support.plyr_server import PlyrServer

pytestmark = pytest.mark.browser

SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
PASSWORD = re.compile(r"([a-z2-9]{4}-){4}[a-z2-9]{4}")


async def _signs_in(plyr: PlyrServer, password: str) -> bool:
    async with opensonic(plyr, username="carol.test", password=password) as sonic:
        try:
            return await sonic.ping()
        except errors.CredentialError:
            return False


async def _make(page: Page, button: str) -> str:
    await page.get_by_role("button", name=button).click()
    field = page.get_by_role("textbox", name="app password")
    await expect(field).to_be_visible()
    password = await field.input_value()
    assert PASSWORD.fullmatch(password), password
    return password


async def test_the_panel_makes_shows_once_replaces_and_removes(
    plyr: PlyrServer, page: Page, atproto_net: Network
) -> None:
    carol = atproto_net.account("carol.test")
    page.on("dialog", lambda dialog: dialog.accept())  # "make a new …?", "remove …?": yes
    await sign_in_to_plyr(page, plyr.url, "carol.test", carol.password)
    await page.goto(f"{plyr.url}/settings")
    panel = page.locator("section", has=page.get_by_role("heading", name="subsonic players"))
    await expect(panel).to_contain_text(plyr.url)
    await expect(panel).to_contain_text("carol.test")
    await expect(panel).to_contain_text(carol.did)
    await expect(panel).to_contain_text("no app password yet")

    first = await _make(page, "make an app password")
    await expect(page.get_by_role("alert").filter(has_text="only time")).to_be_visible()
    assert await _signs_in(plyr, first)

    await page.goto(f"{plyr.url}/settings")
    await expect(page.get_by_role("textbox", name="app password")).to_have_count(0)
    await expect(panel).to_contain_text("you have an app password")
    await expect(panel).not_to_contain_text(first)

    second = await _make(page, "make a new app password")
    assert second != first
    assert not await _signs_in(plyr, first)
    assert await _signs_in(plyr, second)

    await page.get_by_role("button", name="remove the app password").click()
    await expect(
        page.get_by_role("status").filter(has_text="app password was removed")
    ).to_be_visible()
    await expect(panel).to_contain_text("no app password yet")
    assert not await _signs_in(plyr, second)


@pytest.mark.parametrize("scheme", ["dark", "light"])
async def test_the_panel_at_desktop_and_phone_width(
    plyr: PlyrServer, page: Page, atproto_net: Network, scheme: Literal["dark", "light"]
) -> None:
    await page.emulate_media(color_scheme=scheme)
    page.on("dialog", lambda dialog: dialog.accept())
    await sign_in_to_plyr(page, plyr.url, "carol.test", atproto_net.account("carol.test").password)
    await page.goto(f"{plyr.url}/settings")
    await _make(page, "make an app password")
    ARTIFACTS.mkdir(exist_ok=True)
    panel = page.locator("section", has=page.get_by_role("heading", name="subsonic players"))
    for width, height, label in ((1280, 800, "desktop"), (375, 740, "phone")):
        await page.set_viewport_size({"width": width, "height": height})
        assert await page.evaluate(SIDEWAYS) <= 0, f"/settings scrolls sideways at {width}px"
        box = await panel.bounding_box()
        assert box is not None
        assert 0 <= box["x"] <= box["x"] + box["width"] <= width
        await panel.scroll_into_view_if_needed()
        await panel.screenshot(path=ARTIFACTS / f"subsonic-settings-{label}-{scheme}.png")
    await page.get_by_role("button", name="remove the app password").click()
    await expect(
        page.get_by_role("status").filter(has_text="app password was removed")
    ).to_be_visible()
