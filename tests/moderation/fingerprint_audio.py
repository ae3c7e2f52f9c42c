"""Real music for the fingerprint tests, from the bench's generator (bench/support/fingerprint):
a few pieces, some sharing key and tempo, written with PyAV once per test session."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

BENCH = str(Path(__file__).resolve().parents[2] / "bench")
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)

from support.fingerprint.copies import TRANSFORMS, write_audio, write_copy  # noqa: E402
from support.fingerprint.music import RATE, FloatArray, Style, synthesize  # noqa: E402

__all__ = ["RATE", "TRANSFORMS", "Music", "copies_fixture", "music_fixture", "write_audio"]

STYLE = Style(root=50, scale=(0, 2, 4, 5, 7, 9, 11), bpm=120.0, progression=(0, 4, 5, 3))


@dataclass(frozen=True)
class Music:
    folder: Path
    reference: Path  # 70 s, indexed as "work:1"
    samples: dict[str, FloatArray]

    def copy(self, transform: str) -> Path:
        return self.folder / f"reference-{transform}.audio"

    def piece(self, name: str) -> Path:
        return self.folder / f"{name}.flac"


@pytest.fixture(scope="session", name="music")
def music_fixture(tmp_path_factory: pytest.TempPathFactory) -> Music:
    """The reference, its transformed copies, and music that must not match it:

    - ``same-chords``: same key, tempo and chord progression, other melody, drums, timbres;
    - ``same-key``: same key and tempo, other chords;
    - ``distinct``: another key, tempo and everything;
    - ``partial``: 15 s of ``distinct``, then 60 s of the reference from its 5th second.
    """
    folder = tmp_path_factory.mktemp("fingerprint-music")
    reference = synthesize(STYLE, 1, 70.0)
    other_chords = dataclasses.replace(STYLE, progression=(5, 3, 0, 4))
    distinct_style = Style(
        root=55, scale=(0, 2, 3, 5, 7, 8, 10), bpm=96.0, progression=(0, 3, 4, 0)
    )
    samples = {
        "reference": reference,
        "same-chords": synthesize(STYLE, 2, 40.0),
        "same-key": synthesize(other_chords, 3, 40.0),
        "distinct": synthesize(distinct_style, 4, 40.0),
    }
    samples["partial"] = np.concatenate(
        [samples["distinct"][: 15 * RATE], reference[5 * RATE : 65 * RATE]]
    )
    result = Music(folder, folder / "reference.flac", samples)
    for name, piece in samples.items():
        write_audio(result.piece(name), piece)
    return result


@pytest.fixture(scope="session", name="copies")
def copies_fixture(music: Music) -> dict[str, Path]:
    """The reference's transformed copies (MP3 128k, Opus 64k, 22.05 and 48 kHz, ±6 dB,
    the first 15 s cut), by transform name."""
    return {
        transform: write_copy(music.copy(transform), music.samples["reference"], transform)
        for transform in TRANSFORMS
    }
