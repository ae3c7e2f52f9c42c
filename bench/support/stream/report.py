"""What `stream.py` prints: per workload, each target's figures and its ratio to nginx."""

from __future__ import annotations

import argparse
import os

from support.stream.wrk import WORKLOADS, Figures

Target = tuple[str, str, str]  # name, base URL, route ("media" or "audio")


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def print_report(
    targets: list[Target],
    results: dict[tuple[str, str], Figures],
    notes: list[str],
    args: argparse.Namespace,
    elapsed: float,
    load_before: str,
) -> None:
    print(
        f"\nplyr media serving vs nginx: wrk -t1, {args.connections} connections, "
        f"{args.duration} s per run, medians of {args.rounds} rounds, {os.cpu_count()} cores; "
        "load average "
        f"{load_before} before, {load_average()} after"
    )
    for mode, title, unit in WORKLOADS:
        base = results[("nginx static", mode)]
        print(f"\n{title}")
        print(
            f"  {'':44} {'req/s':>8} {'MB/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'errors':>6}  vs nginx"
        )
        for name, _, _ in targets:
            f = results[(name, mode)]
            if unit == "req/s":
                ratio = f"{f.requests_per_second / base.requests_per_second:.2f}x req/s"
            elif unit == "MB/s":
                ratio = f"{f.megabytes_per_second / base.megabytes_per_second:.2f}x MB/s"
            else:
                ratio = f"{f.p50_ms / base.p50_ms:.1f}x p50" if base.p50_ms else "-"
            print(
                f"  {name:44} {f.requests_per_second:8.0f} {f.megabytes_per_second:8.0f} "
                f"{f.p50_ms:8.2f} {f.p99_ms:8.2f} {f.errors:6d}  {ratio}"
            )
    print_targets(results)
    print("\nnginx offload check (docs/nginx.conf):")
    for note in notes:
        print(f"  {note}")
    print(f"\ntotal {elapsed:.0f} s")


# The targets, per plyr target: (workload, unit, bound, higher is better).
ONE_PROCESS = tuple(
    f"plyr serve, {server}: {route}"
    for server in ("granian", "uvicorn")
    for route in ("/media/{key}", "/audio/{id}")
)
OFFLOAD = "nginx + plyr offload: /media/{key}"
GOALS = (
    ("whole", "MB/s", 1.0, ONE_PROCESS),
    ("ranges", "req/s", 0.5, ONE_PROCESS),
    ("ranges", "req/s", 0.9, (OFFLOAD,)),
    ("first", "p50", 10.0, (*ONE_PROCESS, OFFLOAD)),
)


def print_targets(results: dict[tuple[str, str], Figures]) -> None:
    """One line per issue-19 target and server: the ratio to nginx and the verdict."""
    print("\nissue 19 targets (ratio to nginx static, same run)")
    for mode, unit, bound, names in GOALS:
        base = results[("nginx static", mode)]
        for name in names:
            f = results[(name, mode)]
            if unit == "p50":
                ratio = f.p50_ms / base.p50_ms if base.p50_ms else float("inf")
                ok, sign = ratio <= bound, "<="
            elif unit == "MB/s":
                ratio, sign = f.megabytes_per_second / base.megabytes_per_second, ">="
                ok = ratio >= bound
            else:
                ratio, sign = f.requests_per_second / base.requests_per_second, ">="
                ok = ratio >= bound
            verdict = "met" if ok else "NOT met"
            print(f"  {name:40} {mode:7} {ratio:6.2f}x; target {sign} {bound}: {verdict}")
