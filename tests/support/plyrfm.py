"""Running the `plyrfm` command (the SDK's CLI and MCP server) as a process of its own
through its real console-script entry point, the way a developer runs it."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.warm_plyr import WarmPlyr

RUN_TIMEOUT = 90.0
# The console script uv installs beside the interpreter, as `pip install plyrfm` would.
PLYRFM = str(Path(sys.executable).with_name("plyrfm"))


@dataclass(frozen=True)
class PlyrfmRun:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def __str__(self) -> str:
        return (
            f"$ plyrfm {' '.join(self.args)}  (exit {self.returncode}, {self.seconds:.1f}s)\n"
            f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}"
        )


def plyrfm_env(home: Path, url: str | None = None, token: str | None = None) -> dict[str, str]:
    """A clean environment: no PLYR_* from the test run, a private HOME and config folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLYR_", "XDG_"))}
    env.update({"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")})
    env.update({"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "120"})
    if url is not None:
        env["PLYR_URL"] = url
    if token is not None:
        env["PLYR_TOKEN"] = token
    return env


async def run_plyrfm(
    *args: str,
    env: dict[str, str],
    cwd: Path,
    stdin: str | None = None,
    seconds: float = RUN_TIMEOUT,
) -> PlyrfmRun:
    """Run `plyrfm ARGS…` to completion without blocking the event loop (plyr may be served
    by this same loop): the console script in a process of its own, forked from a warm
    parent that has imported plyrfm (tests/support/warm_plyr.py)."""
    started = time.monotonic()
    finished = await asyncio.to_thread(
        WarmPlyr.get("plyrfm").run,
        list(args),
        env=env,
        cwd=cwd,
        seconds=seconds,
        script=True,
        split=True,
        stdin=stdin.encode() if stdin is not None else None,
    )
    if finished.timed_out:
        raise TimeoutError(f"plyrfm {' '.join(args)} still running after {seconds}s")
    return PlyrfmRun(
        args,
        finished.returncode,
        finished.output.decode(),
        finished.stderr.decode(),
        time.monotonic() - started,
    )
