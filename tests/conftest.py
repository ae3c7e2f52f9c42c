"""Shared fixtures. Database tests run on SQLite and on PostgreSQL (127.0.0.1:5432).

`db_url` is parametrized over both backends; each run migrates one SQLite file and one
freshly created PostgreSQL database once, and empties the tables between tests.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from plyr.atproto.devnet import Network
from plyr.config import Settings
from plyr.db import migrate
from plyr.runtime import Runtime
from tests.support.atproto_net import running_network

# Headless Chromium (Playwright) with a screenshot of the page when a browser test fails,
# and every test failing at teardown when a page broke the Content Security Policy.
from tests.support.browser import browser, page, pytest_runtest_makereport  # noqa: F401
from tests.support.csp import csp_violations  # noqa: F401
from tests.support.databases import (
    REQUIRE_POSTGRES,
    clear_tables,
    postgres_available,
    temporary_postgres_database,
)

# A controllable HTTP server on loopback (identity documents, slow or oversized replies).
from tests.support.local_http import server, silent_port  # noqa: F401
from tests.support.seaweedfs import S3Server, SeaweedUnavailable, seaweedfs_server

# httpx clients share one default TLS context instead of reading the CA bundle each.
from tests.support.tls_context import create_ssl_context  # noqa: F401

# Under pytest-xdist: a package sharing a live plyr, or a module, whole on one worker; the
# longest groups handed out first.
from tests.support.worker_groups import (  # noqa: F401
    pytest_collection_finish,
    pytest_collection_modifyitems,
    pytest_configure,
)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "plyr.db"
        url = f"sqlite+aiosqlite:///{path}"
        await migrate.upgrade_async(url)
        yield url
        return
    problem = await postgres_available()
    if problem:
        if REQUIRE_POSTGRES:
            pytest.fail(f"{problem} (PLYR_TEST_REQUIRE_POSTGRES=1)")
        pytest.skip(problem)
    async with temporary_postgres_database() as url:
        await migrate.upgrade_async(url)
        yield url


def make_settings(tmp_path: Path, db_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "database_url": db_url,
        "jobs_enabled": False,
        "secret_key": "test-secret-key-not-for-production",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def devnet_settings(tmp_path: Path, db_url: str, net: Network, **overrides: object) -> Settings:
    """A plyr that signs users in at the local network, with a worker that polls and
    retries quickly (tests wait for what its jobs write)."""
    values: dict[str, object] = {
        "plc_url": net.plc_url,
        "atproto_dev_network": True,
        "atproto_dev_pds_url": net.pds_url,
        "jobs_enabled": True,
        "job_poll_seconds": 0.1,
        "job_backoff_base_seconds": 0.2,
        "job_backoff_cap_seconds": 0.5,
    }
    values.update(overrides)
    return make_settings(tmp_path, db_url, **values)


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return make_settings(tmp_path, db_url)


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = Runtime.open(settings)
    try:
        yield runtime
    finally:
        await clear_tables(runtime.engine)
        await runtime.close()


@pytest.fixture(scope="session")
def atproto_net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    """A real PLC directory + PDS on 127.0.0.1 with the accounts in TEST_ACCOUNTS."""
    started = time.monotonic()
    with running_network(tmp_path_factory.mktemp("atproto-net")) as network:
        print(f"\n[atproto-net] ready in {time.monotonic() - started:.1f}s: {network.pds_url}")
        yield network


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """One SeaweedFS (S3) server for the whole run, on free loopback ports."""
    try:
        with seaweedfs_server() as server:
            yield server
    except SeaweedUnavailable as exc:
        if os.environ.get("PLYR_TEST_REQUIRE_S3") == "1":
            pytest.fail(f"{exc} (PLYR_TEST_REQUIRE_S3=1)")
        pytest.skip(str(exc))
