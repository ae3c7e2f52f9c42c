"""Requests per second on the home feed with 50 concurrent clients: wrk when installed
(its 2 s timeout drops slower answers from the count), else httpx with 50 tasks."""

from __future__ import annotations

import asyncio
import re
import subprocess
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
    done = 0
    failed = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def one() -> None:
            nonlocal done, failed
            while time.perf_counter() < deadline:
                response = await client.get("/")
                done += 1
                failed += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(50)))
        elapsed = time.perf_counter() - started
    return (
        done / elapsed,
        f"httpx, 50 tasks in this process{f', {failed} failed' if failed else ''}",
    )
