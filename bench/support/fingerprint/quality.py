"""Precision and recall of the local matcher over the corpus.

Three pieces of every four are indexed (the references); the fourth is held out. Every
transformed copy of a reference is a query that must find it (a true pair); the held-out
originals and their copies must find nothing (every pair they report is false), nor may a
copy report any other reference. Pieces of one group share key and tempo.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from plyr.media.fingerprint import Fingerprint, fingerprint_file
from plyr.moderation.matching import FingerprintIndex, Match
from support.fingerprint.copies import CUT_SECONDS, TRANSFORMS
from support.fingerprint.corpus import GROUP_SIZE, Piece
from support.fingerprint.margin import closest, print_margins


def key_of(piece: Piece) -> str:
    return f"work:{piece.number}"


def fingerprint_all(paths: list[Path], workers: int = 2) -> list[Fingerprint]:
    # Chromaprint and PyAV release the GIL while they work: threads use both cores.
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fingerprint_file, paths))


@dataclass
class Quality:
    threshold: int
    true_scores: list[int] = field(default_factory=list)  # score of the right key (0: none)
    false_scores: list[int] = field(default_factory=list)  # every other pair reported
    same_group_false: list[int] = field(default_factory=list)  # those of one key and tempo
    recall_by_transform: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    offset_errors: list[float] = field(default_factory=list)  # cut copies: seconds off
    reported_true = 0
    reported_false = 0

    @property
    def recall(self) -> float:
        hits = sum(sum(v) for v in self.recall_by_transform.values())
        total = sum(len(v) for v in self.recall_by_transform.values())
        return hits / total if total else 0.0

    @property
    def precision(self) -> float:
        reported = self.reported_true + self.reported_false
        return self.reported_true / reported if reported else 1.0


def evaluate(pieces: list[Piece], threshold: int) -> tuple[Quality, FingerprintIndex, int]:
    """Fingerprint everything, index the references, run every query."""
    references = [p for p in pieces if p.number % 4 != 3]
    held_out = [p for p in pieces if p.number % 4 == 3]
    index = FingerprintIndex()
    originals = dict(zip(pieces, fingerprint_all([p.original for p in pieces]), strict=True))
    for piece in references:
        index.add(key_of(piece), originals[piece])
    index.compact()
    print_margins(margins(originals, references, held_out))
    queries: list[tuple[Piece, str, bool]] = [(p, t, True) for p in references for t in TRANSFORMS]
    queries += [(p, t, False) for p in held_out for t in ("original", *TRANSFORMS)]
    paths = [p.original if t == "original" else p.copy(t) for p, t, _ in queries]
    quality = Quality(threshold)
    by_number = {p.number: p for p in pieces}
    for (piece, transform, positive), fp in zip(queries, fingerprint_all(paths), strict=True):
        found = index.search(fp, min_score=1, limit=50)
        _tally(quality, piece, transform, positive, found, by_number)
    return quality, index, len(queries)


def margins(
    originals: dict[Piece, Fingerprint], references: list[Piece], held_out: list[Piece]
) -> dict[str, list[tuple[float, float]]]:
    """Brute-force closeness of every held-out piece to each reference of its group (same
    key and tempo), to one reference of another group, and of an MP3 and a cut copy to
    their original (true pairs, for scale)."""
    rows: dict[str, list[tuple[float, float]]] = {
        "true: mp3-128k / cut-15s copy and original": [],
        "false: same key and tempo, same chords": [],
        "false: same key and tempo, other chords": [],
        "false: other groups": [],
    }
    rng = np.random.default_rng(1)
    for piece in held_out:
        for other in references:
            if other.group == piece.group:
                same_chords = {piece.number % GROUP_SIZE, other.number % GROUP_SIZE} == {0, 1}
                label = "same chords" if same_chords else "other chords"
                rows[f"false: same key and tempo, {label}"].append(
                    closest(originals[piece], originals[other])
                )
        far = [r for r in references if r.group != piece.group]
        other = far[int(rng.integers(len(far)))]
        rows["false: other groups"].append(closest(originals[piece], originals[other]))
    for piece in references[::6]:
        for transform in ("mp3-128k", "cut-15s"):
            copy = fingerprint_file(piece.copy(transform))
            rows["true: mp3-128k / cut-15s copy and original"].append(
                closest(copy, originals[piece])
            )
    return rows


def _tally(
    quality: Quality,
    piece: Piece,
    transform: str,
    positive: bool,
    found: list[Match],
    by_number: dict[int, Piece],
) -> None:
    own = key_of(piece) if positive else None
    true_score = 0
    for match in found:
        if match.key == own:
            true_score = match.score
            if transform == "cut-15s" and match.ranges:
                main = max(match.ranges, key=lambda r: r.end - r.start)
                quality.offset_errors.append(abs(main.matched_start - main.start - CUT_SECONDS))
            if match.score >= quality.threshold:
                quality.reported_true += 1
            continue
        quality.false_scores.append(match.score)
        other = by_number[int(match.key.split(":")[1])]
        if other.group == piece.group:
            quality.same_group_false.append(match.score)
        if match.score >= quality.threshold:
            quality.reported_false += 1
    if positive:
        quality.true_scores.append(true_score)
        quality.recall_by_transform[transform].append(true_score >= quality.threshold)


def print_quality(q: Quality, pieces: int, queries: int) -> None:
    true = np.array(q.true_scores)
    false = np.array(q.false_scores or [0])
    same = np.array(q.same_group_false or [0])
    print(
        f"\nquality: {pieces} pieces (groups of {GROUP_SIZE} share key and tempo), "
        f"{queries} queries"
    )
    print(
        f"threshold {q.threshold}: precision {q.precision:.4f}  recall {q.recall:.4f}  "
        f"(pairs reported: {q.reported_true} true, {q.reported_false} false)"
    )
    print("\n| transform | recall | queries |")
    print("|---|---|---|")
    for name, hits in q.recall_by_transform.items():
        print(f"| {name} | {sum(hits) / len(hits):.3f} | {len(hits)} |")
    print("\n| scores | n | min | p1 | p5 | p50 | p95 | p99 | max |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, values in (
        ("true pairs", true),
        ("false pairs", false),
        ("false, same key+tempo", same),
    ):
        n = 0 if values is false and not q.false_scores else len(values)
        n = 0 if values is same and not q.same_group_false else n
        qs = np.percentile(values, [0, 1, 5, 50, 95, 99, 100]).round().astype(int)
        print(f"| {label} | {n} | " + " | ".join(str(v) for v in qs) + " |")
    print("\n| threshold | precision | recall |")
    print("|---|---|---|")
    for threshold in (10, 20, 30, 40, 50, 60, 70, 80, 90):
        right = int((true >= threshold).sum())
        wrong = int((np.array(q.false_scores, dtype=np.int64) >= threshold).sum())
        precision = right / (right + wrong) if right + wrong else 1.0
        print(f"| {threshold} | {precision:.4f} | {right / max(1, len(true)):.4f} |")
    if q.offset_errors:
        print(
            f"\ncut-15s: offset found within {max(q.offset_errors):.1f} s of 15 s "
            f"(median error {float(np.median(q.offset_errors)):.2f} s)"
        )
