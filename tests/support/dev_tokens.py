"""A developer token made the way a user makes one: signed in to plyr in Chromium (the
browser's sign-in tab), "create a token" on the settings page, consent at the PDS, the token
read off the page it lands on."""

from __future__ import annotations

from playwright.async_api import Browser

from plyr.atproto.devnet import Network
from tests.support.browser import sign_in_at_pds, sign_in_to_plyr
from tests.support.plyr_server import PlyrServer
from tests.support.sign_in_tab import sign_in_tab


async def create_dev_token(
    browser: Browser, plyr: PlyrServer, net: Network, handle: str, name: str = "fuzz"
) -> str:
    """A fresh `plyr_…` token for `handle` (a Bearer token: mutations need no CSRF)."""
    password = net.account(handle).password
    async with sign_in_tab(browser) as page:
        await sign_in_to_plyr(page, plyr.url, handle, password)
        await page.goto(f"{plyr.url}/settings")
        await page.get_by_label("name (optional)").fill(name)
        await page.get_by_label("expires").select_option("30")
        await page.get_by_role("button", name="create a token").click()
        await sign_in_at_pds(page, handle=handle, password=password)
        await page.wait_for_url(f"{plyr.url}/oauth/callback?*")
        token = await page.get_by_role("textbox", name="token").input_value()
    assert token.startswith("plyr_"), token
    return token
