"""The cost of one lookup at scale: fingerprint and match a 4-minute upload against an
index of 10 000 reference works of ~4 minutes.

The 10 000 works are made from real fingerprints of the corpus so the index has realistic
value statistics: each work strings together 10-30 s stretches of random corpus pieces
(originals and copies), then permutes its 16 two-bit classifier fields (one random
permutation per work: the same music features, other values) and flips 1 % of its bits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from plyr.media.fingerprint import ITEM_SECONDS, Fingerprint, UInt32Array, fingerprint_file
from plyr.moderation.matching import FingerprintIndex, Match
from support.fingerprint.copies import write_audio
from support.fingerprint.music import draw_style, synthesize


@dataclass(frozen=True)
class Scale:
    works: int
    postings_bytes: int
    build_seconds: float
    fingerprint_cpu: float
    search_cpu: float
    found: list[Match]


def synthetic_works(
    sources: list[Fingerprint], count: int, seconds: float, seed: int = 3
) -> list[UInt32Array]:
    rng = np.random.default_rng(seed)
    length = int(seconds / ITEM_SECONDS)
    works = []
    for _ in range(count):
        parts, total = [], 0
        while total < length:
            source = sources[int(rng.integers(len(sources)))].values
            size = min(int(rng.integers(80, 240)), len(source), length - total)
            start = int(rng.integers(0, len(source) - size + 1))
            parts.append(source[start : start + size])
            total += size
        values = np.concatenate(parts)
        permuted = np.zeros_like(values)
        for field, target in enumerate(rng.permutation(16)):
            permuted |= ((values >> np.uint32(2 * field)) & np.uint32(3)) << np.uint32(2 * target)
        flips = rng.random((len(values), 32)) < 0.01
        permuted ^= (
            (flips * (np.uint32(1) << np.arange(32, dtype=np.uint32))).sum(axis=1).astype(np.uint32)
        )
        works.append(permuted)
    return works


def measure(sources: list[Fingerprint], work: Path, count: int, threshold: int) -> Scale:
    query_path = work / "upload-4min.mp3"
    reference_path = work / "reference-4min.flac"
    if not query_path.exists():
        samples = synthesize(draw_style(np.random.default_rng(11)), 11, 240.0)
        write_audio(reference_path, samples)
        write_audio(query_path, samples, "mp3")
    works = synthetic_works(sources, count - 1, 240.0)
    index = FingerprintIndex()
    started = time.perf_counter()
    for n, values in enumerate(works):
        index.add(f"work:{n}", Fingerprint(values, len(values) * ITEM_SECONDS))
    index.add("work:reference", fingerprint_file(reference_path))
    index.compact()
    build = time.perf_counter() - started
    index.search(fingerprint_file(query_path), min_score=threshold)  # warm caches
    cpu = time.process_time()
    fp = fingerprint_file(query_path)
    middle = time.process_time()
    found = index.search(fp, min_score=threshold)
    done = time.process_time()
    return Scale(len(index), index.nbytes, build, middle - cpu, done - middle, found)


def print_scale(s: Scale) -> None:
    print(f"\nscale: one 4-minute upload (MP3 128k) against {s.works} works of 4 minutes")
    print(__doc__.split("\n\n")[1].replace("\n", " "))
    print("\n| measure | value |")
    print("|---|---|")
    print(f"| index arrays (postings + stored fingerprints) | {s.postings_bytes / 1e6:.1f} MB |")
    print(f"| index build (add all, then merge) | {s.build_seconds:.2f} s |")
    print(f"| CPU: fingerprint the upload | {s.fingerprint_cpu * 1000:.0f} ms |")
    print(f"| CPU: search the index | {s.search_cpu * 1000:.0f} ms |")
    print(f"| CPU: total (goal 1000 ms) | {(s.fingerprint_cpu + s.search_cpu) * 1000:.0f} ms |")
    found = ", ".join(f"{m.key} ({m.score})" for m in s.found) or "nothing"
    print(f"| found | {found} |")
