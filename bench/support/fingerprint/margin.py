"""How far false pairs stay from a match: brute-force alignment of pairs of fingerprints at
every offset, independent of the index's candidate search.

For each pair, the lowest bit error rate over any ~2.5 s window (the matcher's smoothing)
at any offset, and the longest stretch below the matcher's segment threshold. True pairs
(a copy and its original) sit near 0 with long stretches; different music must stay well
above the threshold, or below it only for less than the matcher's minimum segment.
"""

from __future__ import annotations

import numpy as np

from plyr.media.fingerprint import ITEM_SECONDS, Fingerprint
from plyr.moderation.matching import _MIN_SEGMENT, _SEGMENT_BER, _WINDOW

WINDOW = _WINDOW
SEGMENT_BER = _SEGMENT_BER
MIN_SEGMENT_SECONDS = _MIN_SEGMENT * ITEM_SECONDS


def closest(a: Fingerprint, b: Fingerprint) -> tuple[float, float]:
    """(lowest windowed bit error rate, longest run in seconds below SEGMENT_BER)."""
    q, r = a.values, b.values
    lowest, longest = 0.5, 0
    kernel = np.ones(WINDOW) / WINDOW
    for shift in range(-len(q) + WINDOW, len(r) - WINDOW):
        first, last = max(0, -shift), min(len(q), len(r) - shift)
        rate = np.bitwise_count(q[first:last] ^ r[first + shift : last + shift]) / 32.0
        smooth = np.convolve(rate, kernel, mode="valid")
        lowest = min(lowest, float(smooth.min()))
        below = np.concatenate([[0], (smooth < SEGMENT_BER).astype(np.int8), [0]])
        edges = np.flatnonzero(np.diff(below))
        if len(edges):
            longest = max(longest, int((edges[1::2] - edges[::2]).max()))
    return lowest, longest * ITEM_SECONDS


def print_margins(rows: dict[str, list[tuple[float, float]]]) -> None:
    print(
        f"\nmargin (brute force, every offset): windowed bit error rate, the matcher keeps "
        f"stretches below {SEGMENT_BER} lasting {MIN_SEGMENT_SECONDS:.1f} s or more"
    )
    print("\n| pairs | n | lowest BER: min | p5 | p50 | longest stretch below: p95 | max |")
    print("|---|---|---|---|---|---|---|")
    for label, values in rows.items():
        if not values:
            continue
        ber = np.array([v[0] for v in values])
        run = np.array([v[1] for v in values])
        print(
            f"| {label} | {len(values)} | {ber.min():.3f} | {np.percentile(ber, 5):.3f} | "
            f"{np.median(ber):.3f} | {np.percentile(run, 95):.1f} s | {run.max():.1f} s |"
        )
