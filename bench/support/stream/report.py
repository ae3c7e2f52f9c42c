"""What `stream.py` prints: per workload, each target's figures and its ratio to nginx."""

from __future__ import annotations

import argparse
import os

from support.stream.wrk import WORKLOADS, Figures


def print_report(
    targets: list[tuple[str, str, str]],
    results: dict[tuple[str, str], Figures],
    notes: list[str],
    args: argparse.Namespace,
    elapsed: float,
) -> None:
    inline = os.environ.get("PLYR_BENCH_INLINE_READ_MAX", "default")
    print(
        f"\nplyr media serving vs nginx: wrk -t1, {args.connections} connections, "
        f"{args.duration} s per run, {os.cpu_count()} cores, INLINE_READ_MAX={inline}"
    )
    for mode, title, unit in WORKLOADS:
        base = results[("nginx static", mode)]
        print(f"\n{title}")
        print(
            f"  {'':34} {'req/s':>8} {'MB/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
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
                f"  {name:34} {f.requests_per_second:8.0f} {f.megabytes_per_second:8.0f} "
                f"{f.p50_ms:8.2f} {f.p99_ms:8.2f} {f.errors:6d}  {ratio}"
            )
    print("\nnginx offload check (docs/nginx.conf):")
    for note in notes:
        print(f"  {note}")
    print(f"\ntotal {elapsed:.0f} s")
