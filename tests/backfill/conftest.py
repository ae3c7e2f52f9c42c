"""Fixtures of the backfill tests: a world three people made by using plyr (once per
database), fresh empty databases to rebuild into, and `plyr backfill` run as a process."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser

from plyr.atproto.devnet import Network
from plyr.config import Settings
from plyr.db import migrate
from tests.backfill.accounts import Account, create_account
from tests.backfill.dump import dump
from tests.backfill.scenario import (
    Leftouts,
    act,
    all_published,
    pds_matches_index,
    settled,
    sign_in_as,
    write_elsewhere,
)
from tests.conftest import devnet_settings
from tests.support.cli import Run, plyr_env, run_plyr
from tests.support.databases import clear_tables, temporary_postgres_database
from tests.support.plyr_server import running_plyr

BACKFILL_SECONDS = 240.0


@dataclass(frozen=True)
class World:
    settings: Settings  # of the plyr they used: its data folder holds the media
    accounts: list[Account]
    before: dict[str, Any]  # what users saw (tests/backfill/dump.py)
    leftouts: Leftouts

    @property
    def dids(self) -> list[str]:
        return [account.did for account in self.accounts]


@pytest.fixture(scope="module")
async def world(
    browser: Browser, atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> World:
    folder = tmp_path_factory.mktemp("backfill-world")
    settings = devnet_settings(folder, db_url, atproto_net, rate_limit_writes_per_minute=1000)
    accounts = [await create_account(atproto_net, prefix) for prefix in ("ana", "ben", "cai")]
    async with running_plyr(settings, worker=True) as plyr:
        try:
            ana, ben, cai = [await sign_in_as(browser, plyr, account) for account in accounts]
            await act(plyr, ana, ben, cai, folder)
            await settled(plyr)
            await all_published(plyr)
            await pds_matches_index(plyr, atproto_net, [account.did for account in accounts])
            leftouts = await write_elsewhere(atproto_net, accounts[2], settings.atproto_namespace)
            before = await dump(plyr, [account.did for account in accounts])
        finally:
            await clear_tables(plyr.runtime.engine)
    return World(settings, accounts, before, leftouts)


@asynccontextmanager
async def fresh_database(db_url: str, folder: Path) -> AsyncIterator[str]:
    """A new, empty database of the same kind as `db_url`, migrated."""
    if db_url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{folder / 'rebuilt.db'}"
        await migrate.upgrade_async(url)
        yield url
        return
    async with temporary_postgres_database() as url:
        await migrate.upgrade_async(url)
        yield url


def backfill_env(data_dir: Path, database_url: str, net: Network) -> dict[str, str]:
    return plyr_env(
        data_dir,
        PLYR_DATABASE_URL=database_url,
        PLYR_PLC_URL=net.plc_url,
        PLYR_ATPROTO_DEV_NETWORK="true",
        PLYR_ATPROTO_DEV_PDS_URL=net.pds_url,
    )


def report_of(run: Run) -> dict[str, Any]:
    """The JSON report `--json` prints last (progress and log lines come before it)."""
    lines = run.output.splitlines()
    start = max(index for index, line in enumerate(lines) if line == "{")
    return dict(json.loads("\n".join(lines[start:])))


async def run_backfill(*args: str, env: dict[str, str], cwd: Path) -> tuple[Run, dict[str, Any]]:
    run = await run_plyr("backfill", *args, "--json", env=env, cwd=cwd, seconds=BACKFILL_SECONDS)
    assert "{" in run.output.splitlines(), str(run)
    return run, report_of(run)
