"""One `plyr serve` process (web, jobs; SQLite and local storage in its data folder) for the
load, signing users in at the local ATProto network; its log goes to a file."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx

from plyr.atproto.devnet import Network


def server_env(data_dir: Path, port: int, net: Network) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PLYR_")}
    env.update(
        {
            "PLYR_DATA_DIR": str(data_dir),
            "PLYR_PORT": str(port),
            "PLYR_PLC_URL": net.plc_url,
            "PLYR_ATPROTO_DEV_NETWORK": "true",
            "PLYR_ATPROTO_DEV_PDS_URL": net.pds_url,
            "PLYR_INGEST_ENABLED": "false",
            # Warnings and errors only: an access line per request would be load of its own.
            "PLYR_LOG_LEVEL": "WARNING",
            "NO_COLOR": "1",
        }
    )
    return env


async def start_server(
    data_dir: Path, port: int, net: Network, log: Path
) -> asyncio.subprocess.Process:
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "plyr",
            "serve",
            env=server_env(data_dir, port, net),
            cwd=data_dir.parent,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
        )
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as http:
        for _ in range(300):
            if process.returncode is not None:
                raise SystemExit(f"plyr serve exited with {process.returncode}; see {log}")
            try:
                if (await http.get("/health")).status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    process.kill()
    raise SystemExit(f"plyr serve did not answer within a minute; see {log}")


async def stop_server(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), 30)
    except TimeoutError:
        process.kill()
        await process.wait()
