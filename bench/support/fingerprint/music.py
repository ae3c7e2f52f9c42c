"""Synthetic music with numpy: a key, a tempo, a chord progression, a bass line, a melody,
drums, and a timbre for each part, all drawn from one seed.

Pieces of one *group* share key, scale and tempo (the hard negatives: Chromaprint hashes
chroma, so same-key, same-tempo music is what could look alike); within a group some
pieces even share the chord progression and differ only in melody, rhythm and timbre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

RATE = 44100
_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
_PROGRESSIONS = (
    (0, 4, 5, 3),
    (0, 5, 3, 4),
    (0, 3, 4, 0),
    (5, 3, 0, 4),
    (0, 3, 5, 4),
    (1, 4, 0, 0),
    (0, 2, 3, 4),
    (3, 4, 2, 5),
)


@dataclass(frozen=True)
class Style:
    """What a group of pieces shares."""

    root: int  # MIDI note of the key's tonic, octave 3
    scale: tuple[int, ...]
    bpm: float
    progression: tuple[int, ...]


@dataclass(frozen=True)
class Timbre:
    harmonics: tuple[float, ...]  # amplitude of each partial
    attack: float  # seconds
    decay: float  # exponential decay rate, 1/s
    vibrato: float  # depth in semitones


def draw_style(rng: np.random.Generator) -> Style:
    return Style(
        root=int(rng.integers(45, 57)),
        scale=_MAJOR if rng.random() < 0.5 else _MINOR,
        bpm=float(rng.choice([84, 96, 100, 110, 120, 128, 140])),
        progression=_PROGRESSIONS[int(rng.integers(len(_PROGRESSIONS)))],
    )


def _timbre(rng: np.random.Generator) -> Timbre:
    n = int(rng.integers(2, 9))
    slope = rng.uniform(0.6, 2.0)
    harmonics = tuple(
        float(rng.uniform(0.3, 1.0) / (k + 1) ** slope * (0.2 if rng.random() < 0.3 else 1.0))
        for k in range(n)
    )
    return Timbre(
        harmonics,
        float(rng.uniform(0.003, 0.08)),
        float(rng.uniform(0.5, 6)),
        float(rng.uniform(0, 0.15)),
    )


def _freq(note: float) -> float:
    return float(440.0 * 2 ** ((note - 69) / 12))


def _wavetable(timbre: Timbre, freq: float, size: int = 4096) -> FloatArray:
    x = 2 * np.pi * np.arange(size) / size
    table = np.zeros(size)
    for k, amp in enumerate(timbre.harmonics, 1):
        if freq * k < RATE / 2 - 1000:  # no partial above Nyquist (aliasing)
            table += amp * np.sin(k * x)
    return table


def _add_note(
    out: FloatArray, start: float, length: float, note: float, timbre: Timbre, gain: float
) -> None:
    first = int(start * RATE)
    n = min(int(length * RATE), len(out) - first)
    if n <= 0:
        return
    t = np.arange(n) / RATE
    env = np.minimum(1.0, t / timbre.attack) * np.exp(-timbre.decay * t)
    env *= np.minimum(1.0, (n - np.arange(n)) / (0.01 * RATE))  # no click at the end
    # One period of the waveform as a table, read at the note's phase: a gather instead of
    # a sine per partial and sample.
    cycles = _freq(note) * (t + timbre.vibrato * 0.01 * np.sin(2 * np.pi * 5.5 * t) / 5.5)
    table = _wavetable(timbre, _freq(note))
    wave = table[(cycles * len(table)).astype(np.int64) % len(table)]
    out[first : first + n] += gain * env * wave


def _drums(out: FloatArray, rng: np.random.Generator, beat: float) -> None:
    pattern_kick = rng.random(8) < 0.35
    pattern_kick[0] = True
    pattern_snare = rng.random(8) < 0.25
    pattern_hat = rng.random(8) < 0.6
    kick_pitch, hat_decay = rng.uniform(45, 70), rng.uniform(40, 120)
    step, bars = beat / 2, int(len(out) / RATE / (beat / 2))
    for i in range(bars):
        first, slot = int(i * step * RATE), i % 8
        n = min(int(0.25 * RATE), len(out) - first)
        if n <= 0:
            break
        t = np.arange(n) / RATE
        if pattern_kick[slot]:
            out[first : first + n] += (
                0.6
                * np.sin(2 * np.pi * kick_pitch * t * (1 + 2 * np.exp(-30 * t)))
                * np.exp(-12 * t)
            )
        if pattern_snare[slot]:
            out[first : first + n] += 0.25 * rng.standard_normal(n) * np.exp(-25 * t)
        if pattern_hat[slot]:
            noise = np.diff(rng.standard_normal(n + 1))
            out[first : first + n] += 0.06 * noise * np.exp(-hat_decay * t)


def synthesize(style: Style, seed: int, seconds: float) -> FloatArray:
    """One piece in ``style``: mono float64 at ``RATE``, peak at -9 dBFS (room for +6 dB)."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * RATE))
    beat = 60.0 / style.bpm
    scale = style.scale
    chord_timbre, bass_timbre, lead_timbre = _timbre(rng), _timbre(rng), _timbre(rng)
    beats_per_chord = int(rng.choice([2, 4, 4, 8]))
    melody_steps = rng.choice([0.5, 1.0, 0.25], p=[0.5, 0.3, 0.2])
    # A motif of 8-16 notes, varied each time it comes back.
    motif = rng.integers(-3, 10, size=int(rng.integers(8, 17)))
    rests = rng.random(len(motif)) < 0.2

    def degree(d: int) -> int:
        return style.root + 12 * (d // 7) + scale[d % 7]

    total_beats = int(seconds / beat)
    for b in range(0, total_beats, beats_per_chord):
        chord = style.progression[(b // beats_per_chord) % len(style.progression)]
        start = b * beat
        for d in (chord, chord + 2, chord + 4):
            _add_note(out, start, beats_per_chord * beat, degree(d) + 12, chord_timbre, 0.12)
        for k in range(beats_per_chord):
            _add_note(out, start + k * beat, beat * 0.9, degree(chord) - 12, bass_timbre, 0.3)
    n_steps = int(seconds / (beat * melody_steps))
    for i in range(n_steps):
        j = i % len(motif)
        if rests[j]:
            continue
        variation = int(rng.integers(-1, 2)) if rng.random() < 0.15 else 0
        _add_note(
            out,
            i * beat * melody_steps,
            beat * melody_steps * 0.95,
            degree(int(motif[j]) + variation) + 12,
            lead_timbre,
            0.25,
        )
    if rng.random() < 0.8:
        _drums(out, rng, beat)
    peak = float(np.abs(out).max()) or 1.0
    return out * (10 ** (-9 / 20) / peak)
