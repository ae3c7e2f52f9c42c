"""Fixtures of the listening tests: plyr (web + worker) once per database, listeners, tracks."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser

from plyr.atproto.devnet import Network
from plyr.auth.sessions import COOKIE_NAME
from tests.conftest import devnet_settings
from tests.support.audio import make_audio
from tests.support.browser import sign_in_at_pds, sign_in_to_plyr
from tests.support.databases import clear_tables
from tests.support.listening import PLAY, STATUS, TTL
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, sign_in, upload_published


@pytest.fixture(scope="package")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-listening"),
        db_url,
        atproto_net,
        now_playing_ttl_seconds=TTL,
    )
    async with running_plyr(settings, worker=True) as server:
        yield server
    await clear_tables(server.runtime.engine)


@pytest.fixture(scope="package")
async def alice(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    return await sign_in(browser, plyr, atproto_net, "alice.test")


@pytest.fixture(scope="package")
async def carol(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    """A listener who never turned scrobbling on."""
    return await sign_in(browser, plyr, atproto_net, "carol.test")


@pytest.fixture(scope="package")
async def bob(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    """A listener who turned scrobbling on in settings (a scope upgrade at the PDS)."""
    password = atproto_net.account("bob.test").password
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in_to_plyr(page, plyr.url, "bob.test", password)
    await page.goto(f"{plyr.url}/settings")
    await page.get_by_role("button", name="turn scrobbling on").click()
    await sign_in_at_pds(page, handle="bob.test", password=password)
    await page.wait_for_url(re.compile(re.escape(f"{plyr.url}/settings")))
    await page.get_by_role("button", name="turn scrobbling off").wait_for()
    # The settings page links to the records in the PDS.
    links = page.locator("[data-scrobble-records] a")
    hrefs = [await links.nth(i).get_attribute("href") for i in range(await links.count())]
    assert any("com.atproto.repo.listRecords" in (h or "") and PLAY in (h or "") for h in hrefs)
    assert any("rkey=self" in (h or "") and STATUS in (h or "") for h in hrefs)
    cookie = next(c["value"] for c in await context.cookies() if c["name"] == COOKIE_NAME)
    await context.close()
    from plyr.auth.sessions import csrf_token, hash_secret

    did = atproto_net.account("bob.test").did
    return SignedIn(
        "bob.test", did, cookie, csrf_token(plyr.settings.secret_key_bytes(), hash_secret(cookie))
    )


@pytest.fixture(scope="package")
async def short_track(
    plyr: PlyrServer, alice: SignedIn, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Alice's published 3 s track (a play counts after 0.9 s)."""
    source = make_audio(tmp_path_factory.mktemp("short") / "short.mp3", "mp3", seconds=3.0)
    async with alice.client(plyr) as http:
        return await upload_published(http, source, title="three seconds", album="tiny tunes")


@pytest.fixture(scope="package")
async def long_track(
    plyr: PlyrServer, alice: SignedIn, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    source = make_audio(tmp_path_factory.mktemp("long") / "long.mp3", "mp3", seconds=20.0, freq=520)
    async with alice.client(plyr) as http:
        return await upload_published(http, source, title="twenty seconds")
