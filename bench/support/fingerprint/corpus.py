"""The bench's corpus on disk: N distinct pieces in groups of one key and tempo, each as an
original FLAC and its transformed copies; made once per work folder, then reused."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from support.fingerprint.copies import TRANSFORMS, write_audio, write_copy
from support.fingerprint.music import _PROGRESSIONS, Style, draw_style, synthesize

GROUP_SIZE = 6  # pieces sharing key, scale and tempo; the first two share chords too
VERSION = "v2"  # bump when the generator changes, so old caches are not reused


@dataclass(frozen=True)
class Piece:
    number: int
    group: int
    seconds: float
    folder: Path

    @property
    def original(self) -> Path:
        return self.folder / "original.flac"

    def copy(self, transform: str) -> Path:
        return self.folder / f"{transform}.{_EXTENSIONS[TRANSFORMS[transform][0]]}"


_EXTENSIONS = {"flac": "flac", "mp3": "mp3", "opus": "ogg", "wav22": "wav", "wav48": "wav"}


def plan(count: int, root: Path, seed: int = 7) -> list[tuple[Piece, Style, int]]:
    """Every piece with the style and seed it is synthesized from."""
    rng = np.random.default_rng(seed)
    planned = []
    for number in range(count):
        group, member = divmod(number, GROUP_SIZE)
        if member == 0:
            style = draw_style(rng)
        elif member > 1:  # same key and tempo, other chords
            others = [p for p in _PROGRESSIONS if p != style.progression]
            style = dataclasses.replace(style, progression=others[int(rng.integers(len(others)))])
        seconds = float(rng.uniform(32, 50))
        folder = root / f"corpus-{VERSION}-{seed}" / f"piece-{number:04d}"
        planned.append((Piece(number, group, seconds, folder), style, seed * 100_000 + number))
    return planned


def _make(item: tuple[Piece, Style, int]) -> None:
    piece, style, seed = item
    done = piece.folder / "done"
    if done.exists():
        return
    piece.folder.mkdir(parents=True, exist_ok=True)
    samples = synthesize(style, seed, piece.seconds)
    write_audio(piece.original, samples)
    for transform in TRANSFORMS:
        write_copy(piece.copy(transform), samples, transform)
    done.touch()


def make_corpus(count: int, root: Path, workers: int = 2) -> list[Piece]:
    planned = plan(count, root)
    todo = [item for item in planned if not (item[0].folder / "done").exists()]
    if todo:
        print(f"generating {len(todo)} pieces and their copies in {root} (cached for next time)")
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_make, todo, chunksize=4))
    return [piece for piece, _, _ in planned]
