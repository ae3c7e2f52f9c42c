"""`plyr serve` as a real process on a loopback port, which a test can stop gracefully or
kill (SIGKILL) and start again on the same data folder and database."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
import pytest

from plyr.atproto.devnet import Network
from tests.support.cli import plyr_env
from tests.support.ports import free_port

START_TIMEOUT = 90.0  # plyr serve starting on a loaded two-core CI machine
STOP_TIMEOUT = 15.0


def network_env(data_dir: Path, database_url: str, net: Network, port: int) -> dict[str, str]:
    """The environment of a plyr that signs users in at the local network, with a worker
    that polls and retries quickly."""
    return plyr_env(
        data_dir,
        PLYR_DATABASE_URL=database_url,
        PLYR_PUBLIC_URL=f"http://127.0.0.1:{port}",
        PLYR_PLC_URL=net.plc_url,
        PLYR_ATPROTO_DEV_NETWORK="true",
        PLYR_ATPROTO_DEV_PDS_URL=net.pds_url,
        PLYR_JOB_POLL_SECONDS="0.1",
        PLYR_JOB_BACKOFF_BASE_SECONDS="0.2",
        PLYR_JOB_BACKOFF_CAP_SECONDS="0.5",
    )


class PlyrProcess:
    """One `plyr serve` at a time on a fixed port; every start appends to the same log."""

    def __init__(self, workdir: Path, env: dict[str, str], port: int | None = None) -> None:
        self.workdir = workdir
        self.env = env
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "serve.log"
        self.process: asyncio.subprocess.Process | None = None

    async def output(self) -> str:
        return await anyio.Path(self.log).read_text(errors="replace")

    async def start(self) -> None:
        with self.log.open("ab") as sink:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "plyr",
                "serve",
                "--port",
                str(self.port),
                "--no-ingest",
                env=self.env,
                cwd=self.workdir,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=sink,
                stderr=asyncio.subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            while True:
                if self.process.returncode is not None:
                    pytest.fail(
                        f"serve exited with {self.process.returncode}:\n{await self.output()}"
                    )
                try:
                    if (await client.get("/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"no answer within {START_TIMEOUT}s:\n{await self.output()}")
                await asyncio.sleep(0.2)

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut or the OOM killer."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.process = None

    async def stop(self) -> None:
        """SIGTERM and wait (SIGKILL after STOP_TIMEOUT); nothing when not running."""
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()


@asynccontextmanager
async def second_web_process(
    *,
    database_url: str,
    secret_key: str,
    data_dir: Path,
    plc_url: str,
    log: Path,
    media_dir: Path | None = None,
    public_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> AsyncIterator[str]:
    """Another `plyr serve --no-worker --no-ingest` on the same PostgreSQL (and, given the
    dirs, the same local media) as the test's plyr: its address, once it answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLYR_")}
    env |= {
        "PLYR_DATA_DIR": str(data_dir),
        "PLYR_DATABASE_URL": database_url,
        "PLYR_SECRET_KEY": secret_key,
        "PLYR_PORT": str(port),
        "PLYR_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PLYR_PLC_URL": plc_url,
        "PLYR_ATPROTO_DEV_NETWORK": "true",
        "NO_COLOR": "1",
    }
    if media_dir is not None:
        env["PLYR_STORAGE_LOCAL_DIR"] = str(media_dir)
    if public_dir is not None:
        env["PLYR_MEDIA_PUBLIC_DIR"] = str(public_dir)
    env |= extra_env or {}
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "plyr",
            "serve",
            "--no-worker",
            "--no-ingest",
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as client, asyncio.timeout(START_TIMEOUT):
            while True:
                assert process.returncode is None, f"the second plyr exited; see {log}"
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                process.kill()
                await process.wait()
