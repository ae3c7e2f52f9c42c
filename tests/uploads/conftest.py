"""Fixtures of the upload tests: plyr (web + worker) once per database for the package; users."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser

from plyr.atproto.devnet import Network
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
