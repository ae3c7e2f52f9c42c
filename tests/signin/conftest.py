"""Fixtures of the sign-in tests: one plyr for the package, its tables emptied after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from plyr.atproto.devnet import Network
from tests.conftest import make_settings
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr


@pytest.fixture(scope="package")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = make_settings(
        tmp_path_factory.mktemp("plyr"),
        db_url,
        plc_url=atproto_net.plc_url,
        atproto_dev_network=True,
        atproto_dev_pds_url=atproto_net.pds_url,
        rate_limit_sign_in_per_minute=1000,
    )
    async with running_plyr(settings) as server:
        yield server


@pytest.fixture(autouse=True)
async def _clean(plyr: PlyrServer) -> AsyncIterator[None]:
    yield
    await clear_tables(plyr.runtime.engine)
