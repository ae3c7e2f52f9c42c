"""Running the `plyr` command once as a subprocess, the way an operator runs it."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

RUN_TIMEOUT = 45.0
# Informational log lines (`HH:MM:SS info    logger: …`) are not problem reports.
INFO_LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d (debug|info)\s")


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
