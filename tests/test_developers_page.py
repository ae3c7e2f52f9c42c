"""`/developers` in Chromium: the short guide (a token, the `plyrfm` command line, Python, the
MCP server, the API) names this plyr's address, its MCP config is JSON a client can read,
its links reach the API reference and the OpenAPI document, and it is usable at 375 px
(nothing scrolls the page sideways; long commands scroll inside their block), in dark and
light. The developer-token section of the settings page and the page showing a new token
link to it. Screenshots in test-artifacts/.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Literal

import pytest
from playwright.async_api import Page, expect

from plyr.atproto.devnet import Network
from plyr.web.shared.openapi import API_VERSION
from tests.conftest import devnet_settings
from tests.support.browser import ARTIFACTS, sign_in_to_plyr
from tests.support.plyr_server import PlyrServer, running_plyr

pytestmark = pytest.mark.browser

VIEWPORTS = ((1280, 800, "desktop"), (375, 740, "phone"))
SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    folder = tmp_path_factory.mktemp("developers")
    settings = devnet_settings(folder, f"sqlite+aiosqlite:///{folder / 'plyr.db'}", atproto_net)
    async with running_plyr(settings) as server:
        yield server


async def test_the_guide_names_this_plyr_and_its_tools(plyr: PlyrServer, page: Page) -> None:
    await page.goto(f"{plyr.url}/developers")
    await expect(page.get_by_role("heading", name="for developers", level=1)).to_be_visible()
    for heading in ("a developer token", "the command line", "python", "mcp", "the json api"):
        await expect(page.get_by_role("heading", name=heading)).to_be_visible()
    main = page.locator("main")
    await expect(main).to_contain_text(f"export PLYR_URL={plyr.url}")
    await expect(main).to_contain_text("pip install ./clients/python")
    await expect(main).to_contain_text(f"api version {API_VERSION}")
    # Signed out, the token section sends people to sign in first.
    await expect(main.get_by_role("link", name="sign in")).to_have_attribute(
        "href", "/login?next=/settings"
    )

    config = json.loads(await page.locator("#dev-mcp-heading ~ pre").inner_text())
    server = config["mcpServers"]["plyr"]
    assert server["command"] == "plyrfm"
    assert server["args"] == ["mcp"]
    assert server["env"]["PLYR_URL"] == plyr.url

    # Code keeps its case although the page's copy is lowercase.
    transform = await page.locator(".code-block").first.evaluate(
        "e => getComputedStyle(e).textTransform"
    )
    assert transform == "none"

    href = await main.get_by_role("link", name="the openapi document").get_attribute("href")
    document = await page.request.get(f"{plyr.url}{href}")
    assert document.ok
    assert (await document.json())["info"]["version"] == API_VERSION
    await main.get_by_role("link", name="interactive api reference").click()
    await page.wait_for_url(f"{plyr.url}/api/docs")
    await expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)


@pytest.mark.parametrize("scheme", ["dark", "light"])
async def test_the_guide_at_desktop_and_phone_width(
    plyr: PlyrServer, page: Page, scheme: Literal["dark", "light"]
) -> None:
    await page.emulate_media(color_scheme=scheme)
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height, label in VIEWPORTS:
        await page.set_viewport_size({"width": width, "height": height})
        await page.goto(f"{plyr.url}/developers")
        await page.wait_for_load_state()
        assert await page.evaluate(SIDEWAYS) <= 0, f"/developers scrolls sideways at {width}px"
        # A command longer than the phone is wide scrolls inside its own block.
        block = page.locator(".code-block").first
        assert await block.evaluate("e => getComputedStyle(e).overflowX") == "auto"
        box = await block.bounding_box()
        assert box is not None
        assert 0 <= box["x"] <= box["x"] + box["width"] <= width
        await page.screenshot(path=ARTIFACTS / f"developers-{label}-{scheme}.png", full_page=True)
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (background == "rgb(14, 15, 18)") == (scheme == "dark"), background


async def test_settings_link_the_guide(plyr: PlyrServer, page: Page, atproto_net: Network) -> None:
    account = atproto_net.account("alice.test")
    await sign_in_to_plyr(page, plyr.url, "alice.test", account.password)
    await page.goto(f"{plyr.url}/settings")
    tokens = page.locator("section", has=page.get_by_role("heading", name="developer tokens"))
    await expect(tokens.get_by_role("link", name="api reference")).to_have_attribute(
        "href", "/api/docs"
    )
    await tokens.get_by_role("link", name="the developer guide").click()
    await page.wait_for_url(f"{plyr.url}/developers")
    # Signed in, the token section points at the settings section itself.
    link = page.locator("main").get_by_role("link", name="settings → developer tokens")
    await expect(link).to_have_attribute("href", "/settings#tokens-heading")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "developers-signed-in.png", full_page=True)
