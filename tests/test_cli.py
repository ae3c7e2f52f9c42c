"""The `plyr` command, each run a process of its own the way an operator runs it (forked
from a warm parent that has imported plyr: tests/support/warm_plyr.py).

Bad configurations must stop the command with exit code 1 and one line that names the
problem, never a traceback. Independent runs go in parallel.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from plyr.db import migrate
from tests.support.cli import INFO_LOG_LINE, Run, plyr_env, run_plyr
from tests.support.databases import (
    POSTGRES_ADMIN_URL,
    REQUIRE_POSTGRES,
    postgres_available,
    temporary_postgres_database,
)
from tests.support.ports import free_port

HAS_S3 = importlib.util.find_spec("plyr.storage.s3") is not None


async def require_postgres() -> None:
    problem = await postgres_available()
    if problem:
        if REQUIRE_POSTGRES:
            pytest.fail(problem)
        pytest.skip(problem)


def assert_one_clear_line(run: Run, *fragments: str) -> str:
    assert run.returncode == 1, run
    assert "Traceback" not in run.output, run
    problems = run.problem_lines()
    assert len(problems) == 1, run
    (line,) = problems
    for fragment in fragments:
        assert fragment.lower() in line.lower(), run
    return line


# --- bad configurations -------------------------------------------------------------------

CLOSED_PORT = free_port()
MISSING_DATABASE = f"plyr_missing_{uuid.uuid4().hex[:10]}"


@dataclass(frozen=True)
class BadConfig:
    env: dict[str, str]
    fragments: tuple[str, ...]  # the one line names the problem with these
    commands: tuple[str, ...] = ("check", "serve")


BAD_CONFIGS: dict[str, BadConfig] = {
    "mysql": BadConfig(
        {"PLYR_DATABASE_URL": "mysql://x"},
        ("PLYR_DATABASE_URL", "unsupported database 'mysql'"),
    ),
    "garbage-url": BadConfig(
        {"PLYR_DATABASE_URL": "not a url"},
        ("PLYR_DATABASE_URL", "not a database url"),
        ("serve",),  # settings errors take the same path in every command
    ),
    "postgres-closed-port": BadConfig(
        {"PLYR_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{CLOSED_PORT}/x"},
        ("cannot connect to the database", f"127.0.0.1:{CLOSED_PORT}", "PLYR_DATABASE_URL"),
        ("check", "serve", "db current"),
    ),
    "postgres-missing-database": BadConfig(
        {
            "PLYR_DATABASE_URL": make_url(POSTGRES_ADMIN_URL)
            .set(database=MISSING_DATABASE)
            .render_as_string(hide_password=False)
        },
        ("cannot connect to the database", f'database "{MISSING_DATABASE}" does not exist'),
    ),
    "port-not-a-number": BadConfig({"PLYR_PORT": "abc"}, ("PLYR_PORT", "integer"), ("serve",)),
    "data-dir-under-a-file": BadConfig(
        {},  # PLYR_DATA_DIR is set by the fixture
        ("data folder", "not writable", "PLYR_DATA_DIR"),
        ("check", "serve", "worker"),
    ),
    "sqlite-not-migrated": BadConfig(
        {},  # `serve` migrates SQLite itself; the others must say how to
        ("schema at nothing", "plyr db upgrade"),
        ("check", "worker"),
    ),
    "ingest-without-a-stream": BadConfig({}, ("nothing to follow", "PLYR_INGEST_URL"), ("ingest",)),
    "production-with-dev-network": BadConfig(
        {"PLYR_ENVIRONMENT": "production", "PLYR_ATPROTO_DEV_NETWORK": "true"},
        ("PLYR_ATPROTO_DEV_NETWORK", "production"),
        ("check", "serve"),
    ),
    "s3-closed-endpoint": BadConfig(
        {
            "PLYR_STORAGE_BACKEND": "s3",
            "PLYR_S3_ENDPOINT_URL": f"http://127.0.0.1:{CLOSED_PORT}",
            "PLYR_S3_ACCESS_KEY_ID": "test-access",
            "PLYR_S3_SECRET_ACCESS_KEY": "test-secret-not-shown",
        },
        (f"127.0.0.1:{CLOSED_PORT}",),
    ),
}
BAD_RUNS = [(case, command) for case, bad in BAD_CONFIGS.items() for command in bad.commands]


@pytest.fixture(scope="module")
async def bad_config_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[tuple[str, str], Run]:
    """Every bad configuration under each of its commands, all at once."""
    root = tmp_path_factory.mktemp("bad-config")
    blocker = root / "a-regular-file"
    blocker.write_text("the data folder cannot go under me")
    # Storage is checked after the database: give the S3 case a migrated database.
    s3_data = root / "s3-data"
    await migrate.upgrade_async(f"sqlite+aiosqlite:///{s3_data / 'plyr.db'}")
    data_dirs = {"data-dir-under-a-file": blocker / "data", "s3-closed-endpoint": s3_data}

    jobs = {}
    for case, command in BAD_RUNS:
        if case.startswith("s3") and not HAS_S3:
            continue
        data_dir = data_dirs.get(case, root / f"{case}-{command.replace(' ', '-')}")
        env = plyr_env(data_dir, **BAD_CONFIGS[case].env)
        args = command.split()
        if command == "serve":
            args += ["--port", str(free_port())]
        jobs[case, command] = run_plyr(*args, env=env, cwd=root)
    # A few at a time: CI machines have two cores.
    slots = asyncio.Semaphore(4)

    async def limited(run: Any) -> Run:
        async with slots:
            return await run  # type: ignore[no-any-return]

    results = await asyncio.gather(*(limited(job) for job in jobs.values()))
    return dict(zip(jobs, results, strict=True))


@pytest.mark.parametrize(("case", "command"), BAD_RUNS)
async def test_bad_configuration_fails_with_one_clear_line(
    bad_config_runs: dict[tuple[str, str], Run], case: str, command: str
) -> None:
    if case.startswith("postgres"):
        await require_postgres()
    if case.startswith("s3") and not HAS_S3:
        pytest.skip("plyr.storage.s3 is not there yet")
    run = bad_config_runs[case, command]

    line = assert_one_clear_line(run, *BAD_CONFIGS[case].fragments)

    assert "test-secret-not-shown" not in run.output
    if command != "check":
        # Nothing but informational logs besides the one line: it did not start.
        assert all(INFO_LOG_LINE.match(other) for other in run.lines if other != line), run
        assert "Uvicorn running" not in run.output
        assert "job worker started" not in run.output


# --- good configurations ------------------------------------------------------------------


async def test_upgrade_check_and_current_on_postgres_mask_secrets(tmp_path: Path) -> None:
    await require_postgres()
    db_password = "dbpass-sekrit-789"  # trust auth: the server accepts it without checking
    secret_key = "supersecretvalue123"
    async with temporary_postgres_database() as url:
        with_password = make_url(url).set(password=db_password)
        env = plyr_env(
            tmp_path / "data",
            PLYR_DATABASE_URL=with_password.render_as_string(hide_password=False),
            PLYR_SECRET_KEY=secret_key,
        )
        head = migrate.head_revision()

        before = await run_plyr("db", "current", env=env, cwd=tmp_path)
        assert before.returncode == 0, before
        assert f"database: empty  code: {head}" in before.output

        upgrade = await run_plyr("db", "upgrade", env=env, cwd=tmp_path)
        assert upgrade.returncode == 0, upgrade
        assert "database is up to date" in upgrade.output

        check, current = await asyncio.gather(
            run_plyr("check", env=env, cwd=tmp_path),
            run_plyr("db", "current", env=env, cwd=tmp_path),
        )

    assert check.returncode == 0, check
    assert current.returncode == 0, current
    assert f"database: {head}  code: {head}" in current.output
    for run in (upgrade, check, current):
        assert db_password not in run.output, run
        assert secret_key not in run.output, run
        assert "Traceback" not in run.output, run
    settings_lines = {
        line.split()[0]: line.split(maxsplit=1)[1]
        for line in check.output.splitlines()
        if line.startswith("  ") and len(line.split()) > 1
    }
    assert settings_lines["secret_key"] == "********"
    assert settings_lines["database_url"].startswith("postgresql+asyncpg://postgres:***@")
    assert re.search(r"ok\s+database\s+.*:\*\*\*@.*\(schema " + re.escape(str(head)), check.output)
    assert re.search(r"ok\s+storage", check.output)
    assert re.search(r"ok\s+data folder", check.output)
    assert "FAIL" not in check.output
