"""The long-running commands (serve, worker, ingest, devnet) start, work, and stop on SIGTERM."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import sys
import time
from pathlib import Path

import anyio
import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from plyr.atproto.devnet import Network
from plyr.atproto.repo import RepoClient
from plyr.atproto.syntax import format_datetime
from plyr.atproto.xrpc import PasswordSession, XrpcClient
from plyr.db import migrate
from plyr.db.models import Profile, utcnow
from tests.support.cli import plyr_env
from tests.support.ports import free_port

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


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
    """`plyr ingest` alone indexes what other clients write (it registers the indexers
    itself, without the web app), then stops cleanly."""
    data_dir = tmp_path / "data"
    database = f"sqlite+aiosqlite:///{data_dir / 'plyr.db'}"
    await migrate.upgrade_async(database)
    log = tmp_path / "ingest.log"
    env = plyr_env(
        data_dir,
        PLYR_INGEST_URL=atproto_net.pds_url,
        PLYR_PLC_URL=atproto_net.plc_url,
        PLYR_ATPROTO_DEV_NETWORK="true",
        PLYR_ATPROTO_DEV_PDS_URL=atproto_net.pds_url,
    )
    process = await start_plyr("ingest", env=env, cwd=tmp_path, log=log)
    account = atproto_net.account("carol.test")
    async with httpx.AsyncClient(timeout=30) as http:
        session = await PasswordSession.create(
            http, atproto_net.pds_url, account.handle, account.password
        )
        carol = RepoClient(XrpcClient(http, atproto_net.pds_url, session), session.did)
        profile = "fm.plyr.actor.profile"  # the default namespace: plyr_env sets none
        try:
            await wait_for_log(process, log, f"following {atproto_net.pds_url}")
            bio = f"written elsewhere {time.time_ns()}"
            await carol.put_record(
                profile, "self", {"bio": bio, "createdAt": format_datetime(utcnow())}
            )
            assert await _eventually_indexed(database, carol.did) == bio
        finally:
            await carol.delete_record(profile, "self")
            if process.returncode is None:
                returncode, took = await stop(process, log)
    output = await read(log)
    assert returncode == 0, output
    assert took < STOP_TIMEOUT
    assert "Traceback" not in output


async def _eventually_indexed(database: str, did: str) -> str | None:
    """The bio plyr indexed for `did`, waiting for the ingest process to write it."""
    engine = create_async_engine(database)
    try:
        async with asyncio.timeout(START_TIMEOUT):
            while True:
                async with engine.connect() as conn:
                    bio = await conn.scalar(select(Profile.bio).where(Profile.did == did))
                if bio is not None:
                    return bio
                await asyncio.sleep(0.2)
    finally:
        await engine.dispose()


async def test_devnet_prints_accounts_and_stops_on_sigterm(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    log = tmp_path / "devnet.log"
    env = plyr_env(
        data_dir,
        PLYR_DEVNET_PLC_PORT=str(free_port()),
        PLYR_DEVNET_PDS_PORT=str(free_port()),
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
