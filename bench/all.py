"""Every issue-19 benchmark in one run, written to `bench/results.md` with the machine and
the date: read paths (pages, search, typing, top tracks) on both databases, media
streaming against nginx, transcoding against the ffmpeg CLI, click-to-sound in Chromium,
and the suite's wall time on a fresh clone.

Usage: .venv/bin/python bench/all.py [--only read_paths,stream,...] [--no-suite]
                                     [--out bench/results.md] [--merge]

The benches run one after another (never side by side: each is the machine's only load),
each as its own process with its own command line, which `results.md` repeats so any
figure can be measured again alone. The summary gathers every line a bench printed with
a verdict ("met" / "NOT met"); the full output of each follows. Catalogues for the read
paths are generated once (about 2.5 minutes per database) and kept at read_paths.py's
default places. `--merge` keeps the results of the benches not run now from the out file
(`--only stream --no-suite --merge` measures streaming again; `--only none --merge` the
suite alone). Run it on a quiet machine: the load average is recorded before and after
each bench, so a run that was not quiet says so.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
VERDICT = re.compile(r"\b(NOT met|met)\b")


@dataclass
class Bench:
    name: str
    command: list[str]
    timeout_s: int
    cwd: Path = ROOT
    output: str = ""
    seconds: float = 0.0
    status: str = "not run"
    load: list[str] = field(default_factory=list)


def benches() -> list[Bench]:
    return [
        Bench(
            "read_paths",
            [
                PYTHON,
                "bench/read_paths.py",
                "--keep",
                "--paths",
                "home,track,artist,home-uncached,track-uncached,artist-uncached,"
                "top,top-day,top-month,search,typing",
            ],
            3600,
        ),
        Bench("stream", [PYTHON, "bench/stream.py"], 1800),
        Bench("transcode", [PYTHON, "bench/transcode.py"], 1800),
        Bench("click_to_sound", [PYTHON, "bench/click_to_sound.py"], 1800),
        Bench("jam_drift", [PYTHON, "bench/jam_drift.py"], 1800),
        Bench("gapless", [PYTHON, "bench/gapless.py"], 1800),
    ]


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(bench: Bench) -> None:
    print(f"== {bench.name}: {' '.join(bench.command[1:])}", flush=True)
    bench.load.append(load_average())
    started = time.monotonic()
    try:
        done = subprocess.run(
            bench.command,
            cwd=bench.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=bench.timeout_s,
            check=False,
        )
        bench.output = done.stdout
        bench.status = "ok" if done.returncode == 0 else f"failed (exit {done.returncode})"
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout
        bench.output = out.decode(errors="replace") if isinstance(out, bytes) else (out or "")
        bench.status = f"timed out after {bench.timeout_s} s"
    bench.seconds = time.monotonic() - started
    bench.load.append(load_average())
    print(f"   {bench.status} in {bench.seconds:.0f} s", flush=True)


def suite_bench() -> Bench:
    """The README's test command on a fresh clone of this checkout's HEAD."""
    clone = Path(tempfile.mkdtemp(prefix="plyr-suite-")) / "plyr"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    shared = ROOT.parent / "shared"
    if shared.exists() and not (clone.parent / "shared").exists():
        (clone.parent / "shared").symlink_to(shared)
    return Bench("suite", ["bash", "scripts/test", "-q", "-p", "no:cacheprovider"], 3600, clone)


def suite_summary(bench: Bench) -> list[str]:
    tail = [line for line in bench.output.splitlines() if re.search(r"\d+ passed", line)]
    minutes = bench.seconds / 60
    verdict = "met" if minutes < 12 and bench.status == "ok" else "NOT met"
    result = tail[-1].strip("= ") if tail else bench.status
    return [f"suite on a fresh clone: {minutes:.1f} min wall ({result}); target < 12: {verdict}"]


def machine() -> list[str]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as info:
        mem_kb = int(info.readline().split()[1])
    tools = []
    for tool, flag in (
        ("nginx", "-v"),
        ("wrk", "--version"),
        ("ffmpeg", "-version"),
        ("chromium", "--version"),
    ):
        path = shutil.which(tool) or (
            f"/usr/sbin/{tool}" if Path(f"/usr/sbin/{tool}").exists() else None
        )
        if path is None:
            tools.append(f"{tool}: not installed")
            continue
        done = subprocess.run([path, flag], capture_output=True, text=True, check=False)
        first = (done.stdout or done.stderr).strip().splitlines()
        tools.append(first[0] if first else tool)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- commit: {commit}{' (with uncommitted changes)' if dirty else ''}",
        f"- CPU: {cpu}, {os.cpu_count()} cores; memory {mem_kb / 1024 / 1024:.1f} GiB",
        f"- system: {platform.platform()}; Python {platform.python_version()}",
        *(f"- {tool}" for tool in tools),
    ]


def section(bench: Bench) -> list[str]:
    """A bench's command, status, time and load, then its output (the suite: its steps and
    pytest's last lines)."""
    if bench.command[0] == PYTHON:
        command = " ".join([".venv/bin/python", *bench.command[1:]])
    else:
        command = " ".join(bench.command) + " (in a fresh clone)"
    before, after = (bench.load[0], bench.load[-1]) if bench.load else ("?", "?")
    output = bench.output.rstrip().splitlines()
    if bench.name == "suite":
        output = [line for line in output if line.startswith("==")] + output[-5:]
    return [
        f"## {bench.name}",
        "",
        f"`{command}`: {bench.status}, {bench.seconds:.0f} s; "
        f"load average before {before}, after {after}",
        "",
        "```",
        *output[-400:],
        "```",
        "",
    ]


def summary_lines(bench: Bench) -> list[str]:
    if bench.name == "suite":
        return [f"[suite] {line}" for line in suite_summary(bench)]
    verdicts = [line.strip() for line in bench.output.splitlines() if VERDICT.search(line)]
    if not verdicts:
        return [f"[{bench.name}] no verdict printed ({bench.status})"]
    return [f"[{bench.name}] {line}" for line in verdicts]


def kept_from(out: Path, fresh: set[str]) -> tuple[list[str], list[str], list[str]]:
    """With --merge: the header, summary lines and sections of an earlier results.md for
    the benches not run now (their dates and load averages stay in their sections)."""
    if not out.exists():
        return [], [], []
    text = out.read_text()
    head, _, rest = text.partition("\n## Summary\n")
    header = [line for line in head.splitlines() if line.startswith("- ")]
    block, _, sections = rest.partition("```\n\n## ")
    summary = [
        line
        for line in block.splitlines()
        if line.startswith("[") and line[1:].split("]", 1)[0] not in fresh
    ]
    kept: list[str] = []
    for part in f"## {sections}".split("\n## ") if sections else []:
        name = part.removeprefix("## ").split("\n", 1)[0].strip()
        if name and name not in fresh:
            kept += [f"## {part.removeprefix('## ').rstrip()}", ""]
    return header, summary, kept


def write(out: Path, ran: list[Bench], suite: Bench | None, header: list[str], merge: bool) -> None:
    benches = ran + ([suite] if suite else [])
    earlier_header, earlier_summary, earlier_sections = (
        kept_from(out, {bench.name for bench in benches}) if merge else ([], [], [])
    )
    lines = ["# Benchmark results (issue 19)", "", "Written by `bench/all.py`.", "", *header, ""]
    if earlier_header and earlier_header != header:
        lines += ["Sections kept from an earlier run (`--merge`) were measured on:", ""]
        lines += [*earlier_header, ""]
    lines += ["## Summary", "", "Every line a bench printed with a verdict:", "", "```"]
    lines += earlier_summary
    for bench in benches:
        lines += summary_lines(bench)
    lines += ["```", ""]
    lines += earlier_sections
    for bench in benches:
        lines += section(bench)
    out.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [bench.name for bench in benches()]
    parser.add_argument("--only", default=",".join(names), help=f"some of {','.join(names)}")
    parser.add_argument("--no-suite", action="store_true", help="skip the suite's wall time")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.md"))
    parser.add_argument(
        "--merge", action="store_true", help="keep the out file's other benches' results"
    )
    args = parser.parse_args()
    only = {name.strip() for name in args.only.split(",") if name.strip()} - {"none"}
    if unknown := only - set(names):
        parser.error(f"unknown benches: {', '.join(sorted(unknown))}")
    header = machine()
    print("\n".join(header), flush=True)
    ran = [bench for bench in benches() if bench.name in only]
    for bench in ran:
        run(bench)
    suite = None
    if not args.no_suite:
        suite = suite_bench()
        run(suite)
        shutil.rmtree(suite.cwd.parent, ignore_errors=True)
    write(Path(args.out), ran, suite, header, args.merge)
    print(f"wrote {args.out}")
    sys.exit(0 if all(b.status == "ok" for b in ran) else 1)


if __name__ == "__main__":
    main()
