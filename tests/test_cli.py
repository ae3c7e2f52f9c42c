"""The `plyr` command, run as a real subprocess the way an operator runs it.

Bad configurations must stop the command with exit code 1 and one line that names the
problem, never a traceback. The slow part is interpreter start-up, so independent runs
go in parallel.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import signal
import socket
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from sqlalchemy.engine import make_url

from plyr.atproto.devnet import Network
from plyr.db import migrate
from tests.conftest import free_port
from tests.support.databases import (
    POSTGRES_ADMIN_URL,
    REQUIRE_POSTGRES,
    postgres_available,
    temporary_postgres_database,
)

RUN_TIMEOUT = 45.0
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
# Informational log lines (`HH:MM:SS info    logger: …`) are not problem reports.
INFO_LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d (debug|info)\s")
HAS_S3 = importlib.util.find_spec("plyr.storage.s3") is not None


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    returncode: int
    output: str  # stdout and stderr, interleaved as the user sees them
    seconds: float

    @property
    def lines(self) -> list[str]:
        return [line for line in self.output.splitlines() if line.strip()]

    def problem_lines(self) -> list[str]:
        """What the command reports as wrong: `plyr: …` lines, FAIL rows, warnings, errors."""
        return [
            line
            for line in self.lines
            if line.startswith("plyr:")
            or "FAIL" in line
            or (re.match(r"^\d\d:\d\d:\d\d ", line) and not INFO_LOG_LINE.match(line))
        ]

    def __str__(self) -> str:
        return (
            f"$ plyr {' '.join(self.args)}  (exit {self.returncode}, {self.seconds:.1f}s)\n"
            f"{self.output}"
        )


def plyr_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PLYR_")}
    env.update({"PLYR_DATA_DIR": str(data_dir), "NO_COLOR": "1", "TERM": "dumb"})
    env.update(overrides)
    return env


async def run_plyr(*args: str, env: dict[str, str], cwd: Path, seconds: float = RUN_TIMEOUT) -> Run:
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "plyr",
        *args,
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(seconds):
            output, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        output, _ = await process.communicate()
        pytest.fail(f"plyr {' '.join(args)} still running after {seconds}s:\n{output.decode()}")
    assert process.returncode is not None
    output_text = output.decode(errors="replace")
    return Run(args, process.returncode, output_text, time.monotonic() - started)


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
    # A few at a time: each is a whole Python start-up, and CI machines have two cores.
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


# --- long-running processes ---------------------------------------------------------------


async def start_plyr(
    *args: str, env: dict[str, str], cwd: Path, log: Path
) -> asyncio.subprocess.Process:
    with log.open("wb") as sink:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "plyr",
            *args,
            env=env,
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
        )


async def read(path: Path) -> str:
    return await anyio.Path(path).read_text()


async def stop(process: asyncio.subprocess.Process, log: Path) -> tuple[int, float]:
    """SIGTERM, then how it exited and how long it took."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        returncode = await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(f"no exit within {STOP_TIMEOUT}s of SIGTERM:\n{await read(log)}")
    return returncode, time.monotonic() - started


async def wait_for_log(process: asyncio.subprocess.Process, log: Path, text: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while text not in await read(log):
        if process.returncode is not None:
            pytest.fail(f"exited with {process.returncode} before {text!r}:\n{await read(log)}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {text!r} within {START_TIMEOUT}s:\n{await read(log)}")
        await asyncio.sleep(0.1)


async def test_serve_answers_health_then_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    process = await start_plyr(
        "serve", "--port", str(port), env=plyr_env(tmp_path / "data"), cwd=tmp_path, log=log
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as client:
            while True:
                if process.returncode is not None:
                    pytest.fail(f"serve exited with {process.returncode}:\n{await read(log)}")
                try:
                    response = await client.get(
                        "/health", headers={"x-request-id": "cli-serve-health-1"}
                    )
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"no answer within {START_TIMEOUT}s:\n{await read(log)}")
                    await asyncio.sleep(0.2)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "ok"
        assert response.headers["x-request-id"] == "cli-serve-health-1"
    finally:
        if process.returncode is None:
            returncode, took = await stop(process, log)
    output = await read(log)
    assert returncode == 0, output
    assert took < STOP_TIMEOUT
    assert "Traceback" not in output
    # The default SQLite database was migrated on start, and the worker ran and stopped.
    assert (tmp_path / "data" / "plyr.db").is_file()
    assert "job worker started" in output
    assert "job worker stopped" in output
    # The access log line carries the request id.
    assert re.search(r"GET /health 200 .*request_id=cli-serve-health-1", output), output


async def test_worker_starts_and_stops_on_sigterm(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    await migrate.upgrade_async(f"sqlite+aiosqlite:///{data_dir / 'plyr.db'}")
    log = tmp_path / "worker.log"
    process = await start_plyr("worker", env=plyr_env(data_dir), cwd=tmp_path, log=log)
    try:
        await wait_for_log(process, log, "job worker started")
    finally:
        if process.returncode is None:
            returncode, took = await stop(process, log)
    output = await read(log)
    assert returncode == 0, output
    assert took < STOP_TIMEOUT
    assert "job worker stopped" in output
    assert "Traceback" not in output


async def test_ingest_follows_the_pds_and_stops_on_sigterm(
    tmp_path: Path, atproto_net: Network
) -> None:
    data_dir = tmp_path / "data"
    await migrate.upgrade_async(f"sqlite+aiosqlite:///{data_dir / 'plyr.db'}")
    log = tmp_path / "ingest.log"
    env = plyr_env(data_dir, PLYR_INGEST_URL=atproto_net.pds_url)
    process = await start_plyr("ingest", env=env, cwd=tmp_path, log=log)
    try:
        await wait_for_log(process, log, f"following {atproto_net.pds_url}")
    finally:
        if process.returncode is None:
            returncode, took = await stop(process, log)
    output = await read(log)
    assert returncode == 0, output
    assert took < STOP_TIMEOUT
    assert "Traceback" not in output


async def test_devnet_prints_accounts_and_stops_on_sigterm(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    log = tmp_path / "devnet.log"
    env = plyr_env(
        data_dir,
        PLYR_DEVNET_PLC_PORT=str(free_tcp_port()),
        PLYR_DEVNET_PDS_PORT=str(free_tcp_port()),
    )
    process = await start_plyr("devnet", env=env, cwd=tmp_path, log=log)
    try:
        await wait_for_log(process, log, "export PLYR_INGEST_URL")
    finally:
        if process.returncode is None:
            returncode, took = await stop(process, log)
    output = await read(log)
    assert returncode == 0, output
    assert took < STOP_TIMEOUT
    assert "sign in as     alice.test" in output
    assert "export PLYR_ATPROTO_DEV_NETWORK=true" in output
    assert (data_dir / "devnet" / "plc-operations.json").exists()
    # The Node process went with it: nothing listens on the PDS port any more.
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", int(env["PLYR_DEVNET_PDS_PORT"]))) != 0


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
