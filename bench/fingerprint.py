"""How well, and how fast, plyr's local matcher recognises copies of known works.

1. Quality: synthesises --pieces distinct pieces (numpy: melody, chords, bass, drums, a
   timbre per part; groups of six share key, scale and tempo, and two of each group share
   their chords too: the hard negatives), writes each as FLAC plus transformed copies with
   PyAV (MP3 128k, Opus 64k, resampled to 22.05 and 48 kHz, -6 and +6 dB, the first 15 s
   cut), indexes three pieces in four and queries every copy and every held-out piece.
   Prints precision and recall at --threshold, per-transform recall, and the scores of
   true and false pairs (`support/fingerprint/quality.py`).
2. Scale: CPU time (process time) to fingerprint and match one 4-minute upload against an
   index of --works works of 4 minutes, the index's array memory and build time
   (`support/fingerprint/scale.py` says how the works are made).

The corpus is cached under --work (default: a folder in the temp dir), so a second run
starts at once. Goals: recall >= 0.95, precision >= 0.99, one lookup <= 1 s of CPU.

Usage: .venv/bin/python bench/fingerprint.py [--pieces 240] [--works 10000]
                                             [--threshold N] [--work DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

if (BENCH := str(Path(__file__).resolve().parent)) not in sys.path:
    sys.path.insert(0, BENCH)

from plyr.config import Settings
from support.fingerprint.corpus import make_corpus
from support.fingerprint.quality import evaluate, fingerprint_all, print_quality
from support.fingerprint.scale import measure, print_scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pieces", type=int, default=240)
    parser.add_argument("--works", type=int, default=10_000)
    parser.add_argument("--threshold", type=int, default=Settings().moderation_threshold)
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "plyr-bench-fingerprint"
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    pieces = make_corpus(args.pieces, args.work)
    print(f"corpus ready in {time.perf_counter() - started:.1f} s: {args.work}")
    started = time.perf_counter()
    quality, _, queries = evaluate(pieces, args.threshold)
    print(f"(quality run: {time.perf_counter() - started:.1f} s)")
    print_quality(quality, len(pieces), queries)

    sources = fingerprint_all([p.original for p in pieces] + [p.copy("mp3-128k") for p in pieces])
    print_scale(measure(sources, args.work, args.works, args.threshold))


if __name__ == "__main__":
    main()
