"""Short synthetic music for the fingerprint tests: chords, a bass line, a melody and a
hi-hat drawn from a seed (pure tones fingerprint too alike to prove anything), and the
transformed copies a matcher must still recognise, written with PyAV.

Pieces made with the same `key` and `bpm` differ only in progression, melody and timbre:
the hard negatives (Chromaprint hashes chroma, so same-key, same-tempo music is what could
look alike).
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
RATE = 44100
_MAJOR = (0, 2, 4, 5, 7, 9, 11)


def _tone(freq: float, seconds: float, harmonics: tuple[float, ...], decay: float) -> FloatArray:
    t = np.arange(int(seconds * RATE)) / RATE
    wave = sum(a * np.sin(2 * np.pi * freq * (k + 1) * t) for k, a in enumerate(harmonics))
    envelope = np.minimum(1.0, t / 0.01) * np.exp(-decay * t)
    return np.asarray(wave * envelope, dtype=np.float64)


def _add(out: FloatArray, start: int, sound: FloatArray) -> None:
    end = min(len(out), start + len(sound))
    if end > start:
        out[start:end] += sound[: end - start]


def _freq(midi: int) -> float:
    return float(440.0 * 2 ** ((midi - 69) / 12))


def piece(
    seed: int, seconds: float = 40.0, *, key: int | None = None, bpm: float | None = None
) -> FloatArray:
    """Mono samples at `RATE`, peak about 0.8."""
    rng = np.random.default_rng(seed)
    root = key if key is not None else int(rng.integers(45, 57))
    beat = 60.0 / (bpm if bpm is not None else float(rng.choice([90, 100, 110, 120, 128])))
    total = int(seconds * RATE)
    out = np.zeros(total)
    lead = tuple(float(x) for x in rng.uniform(0.1, 1.0, 4))
    pad = tuple(float(x) for x in rng.uniform(0.1, 1.0, 3))
    progression = [int(d) for d in rng.choice(7, size=4, replace=False)]
    bar = 4 * beat
    at = 0.0
    bar_n = 0
    while at < seconds:
        degree = progression[bar_n % len(progression)]
        start = int(at * RATE)
        for step in (0, 2, 4):  # a triad on the scale degree
            d = degree + step
            midi = root + 12 + _MAJOR[d % 7] + 12 * (d // 7)
            note = _tone(_freq(midi), bar, pad, 1.2) * 0.12
            _add(out, start, note)
        bass = _tone(_freq(root - 12 + _MAJOR[degree]), bar, (1.0, 0.5), 2.0) * 0.3
        _add(out, start, bass)
        for eighth in range(8):  # the melody: eighth notes, some rests
            if rng.random() < 0.2:
                continue
            d = degree + int(rng.integers(0, 8))
            midi = root + 24 + _MAJOR[d % 7] + 12 * (d // 7)
            length = beat / 2 * float(rng.choice([1, 1, 2]))
            note = _tone(_freq(midi), length, lead, 4.0) * 0.25
            begin = start + int(eighth * beat / 2 * RATE)
            _add(out, begin, note)
        hats = 8 if rng.random() < 0.5 else 4  # hi-hat: short noise bursts
        for hat in range(hats):
            size = int(0.03 * RATE)
            burst = rng.normal(0, 0.05, size) * np.exp(-np.arange(size) / 200)
            _add(out, start + int(hat * bar / hats * RATE), burst)
        at += bar
        bar_n += 1
    return np.asarray(out / max(1e-9, float(np.abs(out).max())) * 0.8)


# name -> (muxer, encoder, sample rate, bit rate)
FORMATS: dict[str, tuple[str, str, int, int | None]] = {
    "flac": ("flac", "flac", RATE, None),
    "wav": ("wav", "pcm_s16le", RATE, None),
    "mp3": ("mp3", "libmp3lame", RATE, 128_000),
    "opus": ("ogg", "libopus", 48000, 64_000),
    "wav22k": ("wav", "pcm_s16le", 22050, None),
}
EXTENSIONS = {"flac": "flac", "wav": "wav", "mp3": "mp3", "opus": "ogg", "wav22k": "wav"}


def write(path: Path, samples: FloatArray, fmt: str = "flac") -> Path:
    """Write mono `samples` (at `RATE`) as stereo `fmt`, resampled by ffmpeg."""
    muxer, codec, rate, bit_rate = FORMATS[fmt]
    stereo = np.clip(np.stack([samples, samples]), -1.0, 1.0).astype(np.float32)
    with av.open(str(path), "w", format=muxer) as out:
        stream = out.add_stream(codec, rate=rate, layout="stereo")
        if bit_rate:
            stream.codec_context.bit_rate = bit_rate
        resampler = av.AudioResampler(format=stream.format, layout="stereo", rate=rate)
        for pos in [*range(0, stereo.shape[1], 8192), None]:
            frame = None
            if pos is not None:
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(stereo[:, pos : pos + 8192]),
                    format="fltp",
                    layout="stereo",
                )
                frame.sample_rate = RATE
            for converted in resampler.resample(frame):
                converted.pts = None
                out.mux(stream.encode(converted))
        out.mux(stream.encode(None))
    return path


# The transformed copies: name -> (format, change to the samples).
CUT_SECONDS = 15.0
TRANSFORMS = {
    "mp3-128k": ("mp3", lambda s: s),
    "opus-64k": ("opus", lambda s: s),
    "wav-22k": ("wav22k", lambda s: s),
    "quieter": ("flac", lambda s: s * 10 ** (-9 / 20)),
    "cut-15s": ("mp3", lambda s: s[int(CUT_SECONDS * RATE) :]),
}


def transformed(folder: Path, name: str, samples: FloatArray, transform: str) -> Path:
    fmt, change = TRANSFORMS[transform]
    return write(folder / f"{name}-{transform}.{EXTENSIONS[fmt]}", change(samples), fmt)
