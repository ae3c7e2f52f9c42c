"""Schemathesis over the live OpenAPI (`/api/openapi.json`) of a running plyr, on SQLite and
PostgreSQL: as an anonymous caller and as a signed-in one (a developer token), every
operation answers without a server error and as the OpenAPI describes it (status, content
type, body schema, headers, `Allow`), and refuses what the schema rules out.

A bounded run (`PLYR_FUZZ_EXAMPLES`, 6 cases per operation in the fuzzing phase, plus the
coverage and stateful phases) with a fixed seed, so a failure reproduces; `bench/fuzz_api.py`
is the longer run. The fuzzed plyr has a database of its own (whatever fuzzing leaves there
never meets another test) and runs no job worker, so nothing fuzzing writes reaches the
shared PDS; a first server on the same database, with the worker, seeds what the fuzzer
finds at id 1: a published track, a playlist holding it, a comment, a like.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx
import pytest
from fastapi import FastAPI, HTTPException
from playwright.async_api import Browser

from plyr.atproto.devnet import Network
from plyr.db import migrate
from tests.conftest import devnet_settings
from tests.support.api_fuzz import DEFAULT_SEED, FuzzReport, fuzz_api
from tests.support.audio import make_audio
from tests.support.databases import (
    REQUIRE_POSTGRES,
    postgres_available,
    temporary_postgres_database,
)
from tests.support.dev_tokens import create_dev_token
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import upload_published
from tests.support.ports import free_port
from tests.support.serving import uvicorn_serving

EXAMPLES = int(os.environ.get("PLYR_FUZZ_EXAMPLES", "6"))
SEED = int(os.environ.get("PLYR_FUZZ_SEED", str(DEFAULT_SEED)))
# bench/fuzz_api.py reads the figures of each run from here (one JSON line per run).
REPORT_PATH = os.environ.get("PLYR_FUZZ_REPORT")
MANY = 1_000_000  # rate limits out of the way: the fuzzer is one very busy user


@dataclass(frozen=True)
class FuzzTarget:
    plyr: PlyrServer
    database: str
    token: str
    operations: int


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def fuzz_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A database of the fuzz run's own, dropped afterwards."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz-sqlite') / 'plyr.db'}"
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


async def _seed(plyr: PlyrServer, token: str, folder: Path) -> None:
    """A published track (id 1), a playlist holding it, a comment and a like, by the user
    the fuzzer signs in as."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=plyr.url, headers=headers, timeout=30) as http:
        audio = make_audio(folder / "seed.mp3", "mp3", seconds=3)
        track = await upload_published(http, audio, title="fuzz seed", tags="seed")
        created = await http.post(
            "/api/lists", json={"type": "playlist", "name": "seed", "track_ids": [track["id"]]}
        )
        assert created.status_code == 201, created.text
        comment = await http.post(
            f"/api/tracks/{track['id']}/comments", json={"text": "seed", "timestamp_ms": 500}
        )
        assert comment.status_code == 201, comment.text
        liked = await http.post(f"/api/tracks/{track['id']}/like")
        assert liked.status_code == 200, liked.text


@pytest.fixture(scope="module")
async def fuzz_target(
    fuzz_database: str,
    atproto_net: Network,
    browser: Browser,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[FuzzTarget]:
    folder = tmp_path_factory.mktemp("fuzz")
    settings = devnet_settings(
        folder,
        fuzz_database,
        atproto_net,
        rate_limit_writes_per_minute=MANY,
        rate_limit_uploads_per_hour=MANY,
        rate_limit_sign_in_per_minute=MANY,
        admin_dids=[atproto_net.account("alice.test").did],  # the admin routes' own code too
    )
    async with running_plyr(settings, worker=True) as seeding:
        token = await create_dev_token(browser, seeding, atproto_net, "alice.test")
        await _seed(seeding, token, folder)
    async with running_plyr(settings, worker=False) as plyr:
        async with httpx.AsyncClient(base_url=plyr.url) as http:
            schema = (await http.get("/api/openapi.json")).json()
        operations = sum(len(methods) for methods in schema["paths"].values())
        yield FuzzTarget(plyr, fuzz_database.split("+")[0], token, operations)


def _assert_clean(report: FuzzReport, operations: int) -> None:
    print(f"\n[fuzz] {report.summary()}")
    for finding, why in report.left_to_others:
        print(f"[fuzz] left to others: {finding.operation} {finding.status} ({why})")
    assert report.errors == [], report.details()
    assert report.findings == [], report.details()
    assert report.operations == operations  # every operation of the live OpenAPI…
    assert len(report.tested) == operations  # …got cases
    assert report.cases >= operations * EXAMPLES


@pytest.mark.browser
@pytest.mark.parametrize("caller", ["anonymous", "signed in"])
async def test_no_server_error_and_every_answer_as_documented(
    fuzz_target: FuzzTarget, caller: str, tmp_path: Path
) -> None:
    headers = {"Authorization": f"Bearer {fuzz_target.token}"} if caller == "signed in" else {}
    report = await asyncio.to_thread(
        fuzz_api,
        fuzz_target.plyr.url,
        caller=caller,
        headers=headers,
        examples=EXAMPLES,
        workdir=tmp_path,
        seed=SEED,
    )
    if REPORT_PATH:
        async with await anyio.open_file(REPORT_PATH, "a") as out:
            await out.write(report.to_json(database=fuzz_target.database, examples=EXAMPLES))
            await out.write("\n")
    _assert_clean(report, fuzz_target.operations)


# --- the fuzzer itself can fail ------------------------------------------------------------

toy = FastAPI(openapi_url="/api/openapi.json")


@toy.get("/api/items/{item_id}", responses={404: {"description": "no such item"}})
async def toy_item(item_id: int) -> dict[str, int]:
    if item_id <= 0:
        raise OverflowError("the database cannot hold this id")  # a 500
    if item_id % 2:
        raise HTTPException(409)  # not in the OpenAPI
    raise HTTPException(404)


async def test_the_fuzzer_reports_a_server_error_and_an_undocumented_status(
    tmp_path: Path,
) -> None:
    port = free_port()
    async with uvicorn_serving(toy, port, lifespan="off"):
        report = await asyncio.to_thread(
            fuzz_api,
            f"http://127.0.0.1:{port}",
            caller="anonymous",
            headers={},
            examples=EXAMPLES,
            workdir=tmp_path,
        )
    found = {(f.operation, f.check, f.status) for f in report.findings}
    assert ("GET /api/items/{item_id}", "not_a_server_error", 500) in found
    assert ("GET /api/items/{item_id}", "status_code_conformance", 409) in found
    assert report.server_errors
    assert report.non_conformances
