"""What `read_paths.py` prints: a line per path as it is measured, a table per backend."""

from __future__ import annotations

import statistics

from support.read_paths.measure import PathResult, percentile


def summary(result: PathResult) -> str:
    if result.skipped:
        return f"skipped: {result.skipped}"
    app50 = statistics.median(result.app_ms)
    bare50 = statistics.median(result.bare_ms)
    return (
        f"p50 {app50:.1f} ms, p95 {percentile(result.app_ms, 0.95):.1f} ms, "
        f"bare p50 {bare50:.2f} ms ({app50 / bare50:.1f}x), "
        f"{result.statements:.1f} statements/request"
        + (f", {result.errors} non-200" if result.errors else "")
    )


def print_table(label: str, results: list[PathResult], rps: tuple[float, str] | None) -> None:
    print(f"\n{label}")
    head = (
        f"  {'path':<8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'bare p50':>9} "
        f"{'bare p95':>9} {'app/bare':>9} {'SQL/req':>8}"
    )
    print(head)
    print("  " + "-" * (len(head) - 2))
    for r in results:
        if r.skipped:
            print(f"  {r.name:<8} skipped: {r.skipped}")
            continue
        app50 = statistics.median(r.app_ms)
        bare50 = statistics.median(r.bare_ms)
        print(
            f"  {r.name:<8} {app50:8.1f} {percentile(r.app_ms, 0.95):8.1f} "
            f"{percentile(r.app_ms, 0.99):8.1f} {bare50:9.2f} "
            f"{percentile(r.bare_ms, 0.95):9.2f} {app50 / bare50:8.1f}x {r.statements:8.1f}"
            + (f"  ({r.errors} non-200)" if r.errors else "")
        )
    if rps is not None:
        print(f"  home feed, 50 concurrent clients: {rps[0]:,.0f} requests/s ({rps[1]})")


# Issue 19's targets: search (and Cmd+K typing) p95 at most 30 ms, top tracks uncached at
# most 20 ms (p50 of the route with its 5 s cache cleared before every request).
TARGETS = {"search": 30.0, "typing": 30.0, "top": 20.0, "top-day": 20.0, "top-month": 20.0}


def print_targets(tables: list[tuple[str, list[PathResult], tuple[float, str] | None]]) -> None:
    """One line per backend and targeted path: p50/p95/p99 ms and the target it is held to."""
    print("\nissue 19 targets (ms; search and typing: p95 <= 30, top uncached: p50 <= 20)")
    for label, results, _rps in tables:
        for r in results:
            if r.name not in TARGETS or r.skipped:
                continue
            p50 = statistics.median(r.app_ms)
            p95 = percentile(r.app_ms, 0.95)
            held = p95 if r.name in ("search", "typing") else p50
            verdict = "met" if held <= TARGETS[r.name] else "NOT met"
            print(
                f"  {label:<10} {r.name:<9} p50 {p50:6.1f}  p95 {p95:6.1f}  "
                f"p99 {percentile(r.app_ms, 0.99):6.1f}  target {TARGETS[r.name]:.0f}: {verdict}"
            )
