"""Requests per second on the home feed with 50 concurrent clients: wrk when installed
(its 2 s timeout drops slower answers from the count), else httpx with 50 tasks in a
process of their own."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

WRK = "/usr/bin/wrk"
HAVE_WRK = Path(WRK).exists()


async def home_rps_wrk(base: str, seconds: int) -> tuple[float, str]:
    process = await asyncio.create_subprocess_exec(
        WRK,
        "-t1",
        "-c50",
        f"-d{seconds}s",
        "--latency",
        f"{base}/",
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    text = out.decode()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    timeouts = re.search(r"timeout (\d+)", text)
    p50 = re.search(r"50%\s+([\d.]+\w+)", text)
    note = f"wrk -t1 -c50, p50 {p50.group(1) if p50 else '?'}"
    if errors:
        note += f", {errors.group(1)} non-2xx"
    if timeouts and timeouts.group(1) != "0":
        note += f", {timeouts.group(1)} timed out (over 2 s)"
    return (float(rps.group(1)) if rps else 0.0), note


async def home_rps_httpx(base: str, seconds: int) -> tuple[float, str]:
    """httpx with 50 tasks in a process of its own: in the server's process they would
    share its event loop, and their cost would be counted as the server's."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        base,
        str(seconds),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    found = json.loads(out.decode().strip().splitlines()[-1])
    failed = found["failed"]
    return (
        found["rps"],
        f"httpx, 50 tasks in another process{f', {failed} failed' if failed else ''}",
    )


async def _load(base: str, seconds: int) -> dict[str, float]:
    done = 0
    failed = 0
    deadline = time.perf_counter() + seconds
    # A client (one connection) per task: one pool of 50 connections costs httpx a scan of
    # them all for every request.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)

    async def one() -> None:
        nonlocal done, failed
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
            while time.perf_counter() < deadline:
                try:
                    response = await client.get("/")
                except httpx.TransportError:
                    failed += 1
                    continue
                done += 1
                failed += response.status_code != 200

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(50)))
    return {"rps": done / (time.perf_counter() - started), "failed": failed}


if __name__ == "__main__":  # the load itself, run by home_rps_httpx
    print(json.dumps(asyncio.run(_load(sys.argv[1], int(sys.argv[2])))))
