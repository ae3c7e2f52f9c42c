"""Fixtures of the social record tests: plyr (web + worker) once per database, users, tracks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser

from plyr.atproto.devnet import Network
from tests.conftest import devnet_settings
from tests.support.audio import make_audio
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, sign_in, upload_published
from tests.support.social_records import ALBUM


@pytest.fixture(scope="package")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-social"),
        db_url,
        atproto_net,
        rate_limit_writes_per_minute=1000,
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


@pytest.fixture(scope="package")
async def tracks(
    plyr: PlyrServer, alice: SignedIn, tmp_path_factory: pytest.TempPathFactory
) -> list[dict[str, Any]]:
    """Three published tracks of alice's; the first two on the album ALBUM."""
    folder = tmp_path_factory.mktemp("social-audio")
    async with alice.client(plyr) as http:
        uploaded = []
        for index in range(3):  # one at a time: their order is the album's order
            source = make_audio(folder / f"t{index}.mp3", "mp3", seconds=3, freq=300 + 40 * index)
            fields = {"title": f"social {index}"} | ({"album": ALBUM} if index < 2 else {})
            uploaded.append(await upload_published(http, source, **fields))
    return uploaded
