"""The server's resident memory over the run, and the CPU time of it and of the load
generator, read from /proc (psutil is not a dependency): the plyr process itself and with
its children (the media process pool)."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from pathlib import Path


def rss_kb(pid: int) -> int:
    """VmRSS of one process in kB (0 once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # After the command: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            for child in children.read_text().split():
                found += [int(child), *descendants(int(child))]
        except FileNotFoundError:
            continue
    return found


@dataclass
class MemorySamples:
    """(seconds since the start, main process kB, with children kB) every `every` seconds."""

    pid: int
    every: float = 10.0
    samples: list[tuple[float, int, int]] = field(default_factory=list)

    def sample(self, started: float) -> None:
        main = rss_kb(self.pid)
        total = main + sum(rss_kb(child) for child in descendants(self.pid))
        self.samples.append((time.monotonic() - started, main, total))

    async def run(self, started: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample(started)
            try:
                await asyncio.wait_for(stop.wait(), self.every)
            except TimeoutError:
                continue
        self.sample(started)

    def window_mean(self, start: float, end: float, *, with_children: bool = False) -> float:
        """Mean kB of the samples taken in [start, end) seconds."""
        values = [
            total if with_children else main
            for at, main, total in self.samples
            if start <= at < end
        ]
        return sum(values) / len(values) if values else float("nan")
