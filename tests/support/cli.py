"""Running the `plyr` command once as a process of its own, the way an operator runs it:
forked from a warm parent that has imported plyr already (tests/support/warm_plyr.py), so
a run costs the command's work, not two seconds of imports."""

from __future__ import annotations

import asyncio
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.warm_plyr import WarmPlyr

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


def run_plyr_blocking(
    *args: str,
    env: dict[str, str],
    cwd: Path,
    seconds: float = RUN_TIMEOUT,
    script: bool = False,
    split: bool = False,
) -> Run:
    """`python -m plyr ARGS` (`script`: the `plyr` console script) to its end; blocks.
    `split`: stdout, then stderr, each whole (for output parsed as one JSON document)."""
    started = time.monotonic()
    finished = WarmPlyr.get().run(
        list(args), env=env, cwd=cwd, seconds=seconds, script=script, split=split
    )
    output = (finished.output + finished.stderr).decode(errors="replace")
    if finished.timed_out:
        pytest.fail(f"plyr {' '.join(args)} still running after {seconds}s:\n{output}")
    return Run(args, finished.returncode, output, time.monotonic() - started)


async def run_plyr(*args: str, env: dict[str, str], cwd: Path, seconds: float = RUN_TIMEOUT) -> Run:
    return await asyncio.to_thread(run_plyr_blocking, *args, env=env, cwd=cwd, seconds=seconds)
