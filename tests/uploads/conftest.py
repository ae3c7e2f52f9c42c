"""Fixtures of the upload tests: plyr (web + worker) once per database for the package; users."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, BrowserContext
from sqlalchemy import delete

from plyr.atproto.devnet import Network
from plyr.auth.sessions import COOKIE_NAME
from plyr.db.models import RateLimitHit
from tests.conftest import devnet_settings
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, sign_in


@pytest.fixture(scope="package")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-uploads"),
        db_url,
        atproto_net,
        max_upload_bytes=8 * 1024 * 1024,
    )
    async with running_plyr(settings, worker=True) as server:
        yield server
    await clear_tables(server.runtime.engine)


@pytest.fixture(scope="package")
async def alice(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    return await sign_in(browser, plyr, atproto_net, "alice.test")


@pytest.fixture(scope="package")
async def bob(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    return await sign_in(browser, plyr, atproto_net, "bob.test")


@pytest.fixture
async def signed_in(
    browser: Browser, plyr: PlyrServer, alice: SignedIn
) -> AsyncIterator[BrowserContext]:
    """A browser signed in as alice (her session cookie), her upload limit cleared."""
    async with plyr.runtime.sessions() as db:  # the package's other uploads count too
        await db.execute(delete(RateLimitHit))
        await db.commit()
    new = await browser.new_context()
    host = plyr.url.split("//", 1)[1].split(":")[0]
    await new.add_cookies(
        [{"name": COOKIE_NAME, "value": alice.cookie, "domain": host, "path": "/"}]
    )
    yield new
    await new.close()
