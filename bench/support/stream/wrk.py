"""The four workloads, asked for by wrk (one thread, N connections) through a Lua script:
random 256 KB ranges of the five files, the whole 8 MB file as `Range: bytes=0-` (as
<audio> asks), and its first 64 KB (with N connections and with one)."""

from __future__ import annotations

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
local keys = {%(keys)s}
local sizes = {%(sizes)s}
local prefix, mode = "/media/", "ranges"
local whole = "%(whole)s"

function init(args)
  prefix, mode = args[1], args[2]
  math.randomseed(%(seed)d)
end

function request()
  if mode == "ranges" then
    local i = math.random(#keys)
    local start = math.random(0, sizes[i] - %(range)d)
    local range = "bytes=" .. start .. "-" .. (start + %(range)d - 1)
    return wrk.format("GET", prefix .. keys[i], {["Range"] = range})
  elseif mode == "whole" then
    return wrk.format("GET", prefix .. whole, {["Range"] = "bytes=0-"})
  else
    return wrk.format("GET", prefix .. whole, {["Range"] = "bytes=0-%(first)d"})
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.bytes,
    summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def lua_script(files: Files) -> str:
    """The Lua script for these files: wrk's arguments pick the URL prefix and the mode."""
    keys = ", ".join(f'"{k}"' for k in files.keys)
    return LUA % {
        "keys": keys,
        "sizes": ", ".join(str(s) for s in files.sizes),
        "whole": files.whole,
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
    script: Path, base: str, prefix: str, mode: str, connections: int, duration: int
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
        prefix,
        mode,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk failed:\n{result.stdout}\n{result.stderr}")
    requests, size, micros, p50, p99, errors = (int(v) for v in line.split()[1:])
    seconds = micros / 1e6
    return Figures(requests / seconds, size / seconds / 1e6, p50 / 1000, p99 / 1000, errors)
