"""The four workloads, asked for by wrk (one thread, N connections) through a Lua script:
random 256 KB ranges of the five files, the whole 8 MB file as `Range: bytes=0-` (as
<audio> asks), and its first 64 KB (with N connections and with one); each by key
(`/media/<key>`) or by track (`/audio/<id>`)."""

from __future__ import annotations

import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

from support.stream.files import Files

RANGE_SIZE = 256 * 1024
FIRST_BYTES = 64 * 1024

WORKLOADS = [
    ("ranges", "random 256 KB ranges", "req/s"),
    ("whole", "whole 8 MB file (Range: bytes=0-)", "MB/s"),
    ("first", "first 64 KB (bytes=0-65535)", "p50"),
    ("first1", "first 64 KB, 1 connection", "p50"),
]

LUA = """
local paths = {media = {%(media)s}, audio = {%(audio)s}}
local sizes = {%(sizes)s}
local list, mode = paths.media, "ranges"

function init(args)
  list, mode = paths[args[1]], args[2]
  math.randomseed(%(seed)d)
end

function request()
  if mode == "ranges" then
    local i = math.random(#list)
    local start = math.random(0, sizes[i] - %(range)d)
    local range = "bytes=" .. start .. "-" .. (start + %(range)d - 1)
    return wrk.format("GET", list[i], {["Range"] = range})
  elseif mode == "whole" then
    return wrk.format("GET", list[1], {["Range"] = "bytes=0-"})
  else
    return wrk.format("GET", list[1], {["Range"] = "bytes=0-%(first)d"})
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.bytes,
    summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def lua_script(files: Files, track_ids: list[int]) -> str:
    """The Lua script for these files: wrk's arguments pick the route (`media`: the files
    by key, `audio`: the tracks that play them) and the workload."""
    return LUA % {
        "media": ", ".join(f'"/media/{k}"' for k in files.keys),
        "audio": ", ".join(f'"/audio/{i}"' for i in track_ids),
        "sizes": ", ".join(str(s) for s in files.sizes),
        "seed": 42,
        "range": RANGE_SIZE,
        "first": FIRST_BYTES - 1,
    }


@dataclass(frozen=True)
class Figures:
    requests_per_second: float
    megabytes_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def run_wrk(
    script: Path, base: str, route: str, mode: str, connections: int, duration: int
) -> Figures:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base,
        "--",
        route,
        mode,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk failed:\n{result.stdout}\n{result.stderr}")
    requests, size, micros, p50, p99, errors = (int(v) for v in line.split()[1:])
    seconds = micros / 1e6
    return Figures(requests / seconds, size / seconds / 1e6, p50 / 1000, p99 / 1000, errors)


def median_figures(runs: list[Figures]) -> Figures:
    """Each figure's median over the rounds."""
    return Figures(
        statistics.median(f.requests_per_second for f in runs),
        statistics.median(f.megabytes_per_second for f in runs),
        statistics.median(f.p50_ms for f in runs),
        statistics.median(f.p99_ms for f in runs),
        sum(f.errors for f in runs),
    )
