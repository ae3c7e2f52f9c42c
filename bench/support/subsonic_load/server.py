"""One `plyr serve` process on the catalogue (web only: no jobs, no ingest, no network),
its warnings and errors in a log file; the CPU it used is read from /proc."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import httpx

from support.load.memory import cpu_seconds, descendants


def server_env(url: str, data_dir: Path, port: int) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PLYR_")}
    env.update(
        {
            "PLYR_DATABASE_URL": url,
            "PLYR_DATA_DIR": str(data_dir),
            "PLYR_PORT": str(port),
            "PLYR_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "PLYR_JOBS_ENABLED": "false",
            "PLYR_INGEST_ENABLED": "false",
            "PLYR_LOG_LEVEL": "WARNING",  # an access line per request would be load of its own
            "NO_COLOR": "1",
        }
    )
    return env


async def start_server(
    url: str, data_dir: Path, port: int, log: Path
) -> asyncio.subprocess.Process:
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "plyr",
            "serve",
            env=server_env(url, data_dir, port),
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


def server_cpu(pid: int) -> float:
    """CPU seconds of the server and its children (the media pool) so far."""
    return cpu_seconds(pid) + sum(cpu_seconds(child) for child in descendants(pid))
