"""The figures of a load run: a table per route template, the listeners' playback, the
uploads, the server's memory (a minute after warm-up against the last minute) and one
verdict line."""

from __future__ import annotations

import math
from dataclasses import dataclass

from support.load.listeners import CHUNK_BYTES, CHUNK_SECONDS, Listening
from support.load.memory import MemorySamples
from support.load.stats import Recorder, percentile
from support.load.uploads import UploadOutcome

FLAT_WITHIN = 0.10


@dataclass(frozen=True)
class Windows:
    """Where memory is compared: after `warmup` seconds, the first and the last `span`."""

    warmup: float
    span: float
    run: float

    @classmethod
    def for_run(cls, run_seconds: float) -> Windows:
        warmup = min(60.0, run_seconds / 4)
        span = min(60.0, (run_seconds - warmup) / 2)
        return cls(warmup, span, run_seconds)


def route_table(recorder: Recorder) -> list[str]:
    lines = [
        f"{'route':<32} {'count':>8} {'errors':>7} {'retried':>7} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    ]
    for name in sorted(recorder.routes):
        stats = recorder.routes[name]
        values = stats.latencies_ms
        cells = [percentile(values, f) for f in (0.5, 0.95, 0.99)] + [
            max(values) if values else math.nan
        ]
        lines.append(
            f"{name:<32} {stats.count:>8} {stats.errors:>7} {stats.retried:>7} "
            + " ".join(f"{cell:>8.1f}" for cell in cells)
        )
        if stats.error_kinds:
            kinds = ", ".join(f"{kind} x{n}" for kind, n in stats.error_kinds.most_common())
            lines.append(f"{'':<32} errors: {kinds}")
    return lines


def listening_lines(totals: Listening, listeners: int, seconds: float) -> list[str]:
    per_listener = totals.bytes_read / max(1, listeners) / max(1.0, seconds) / 1024
    target = CHUNK_BYTES / CHUNK_SECONDS / 1024
    late = totals.late_chunks / max(1, totals.chunks + totals.late_chunks) * 100
    return [
        f"listeners: {listeners}, {totals.tracks_started} tracks started, "
        f"{totals.bytes_read / 1e6:.0f} MB read, {per_listener:.1f} KB/s each "
        f"(playback rate {target:.0f} KB/s), late chunks {totals.late_chunks} ({late:.2f} %)"
    ]


def upload_lines(outcomes: list[UploadOutcome]) -> list[str]:
    published = sorted(o.seconds for o in outcomes if o.seconds is not None)
    lines = [
        f"uploads: {len(published)}/{len(outcomes)} published"
        + (
            f"; sending → published p50 {percentile(published, 0.5):.1f} s, "
            f"max {published[-1]:.1f} s"
            if published
            else ""
        )
    ]
    lines += [f"  {o.source}: {o.problem}" for o in outcomes if o.problem]
    return lines


def memory_flat(memory: MemorySamples, windows: Windows) -> tuple[bool | None, list[str]]:
    """Whether the plyr process's RSS stayed within FLAT_WITHIN from the first window after
    warm-up to the last (None: the run was too short to have samples in both)."""
    first_end = windows.warmup + windows.span
    last_start = windows.run - windows.span
    lines = []
    verdict: bool | None = None
    # The verdict is the plyr process's; its children (the media pool) are shown beside it.
    for label, children in (("plyr process", False), ("with its children", True)):
        first = memory.window_mean(windows.warmup, first_end, with_children=children)
        last = memory.window_mean(last_start, windows.run + 1, with_children=children)
        if math.isnan(first) or math.isnan(last):
            lines.append(f"RSS {label}: too short a run to compare two windows")
            continue
        growth = (last - first) / first
        if not children:
            verdict = abs(growth) <= FLAT_WITHIN
        lines.append(
            f"RSS {label}: {first / 1024:.0f} MB in [{windows.warmup:.0f}, {first_end:.0f}) s, "
            f"{last / 1024:.0f} MB in [{last_start:.0f}, {windows.run:.0f}] s ({growth:+.1%})"
        )
    # The curve, a minute at a time: growth that levels off is warm-up, a steady slope a leak.
    minutes = int(windows.run // 60)
    curve = [memory.window_mean(60 * m, 60 * (m + 1)) for m in range(minutes)]
    lines.append(
        "RSS plyr process per minute (MB): "
        + " ".join("-" if math.isnan(kb) else f"{kb / 1024:.0f}" for kb in curve)
    )
    return verdict, lines
