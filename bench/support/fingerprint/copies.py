"""Write audio with PyAV, and the transformed copies a matcher must still recognise."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from support.fingerprint.music import RATE, FloatArray

# name -> (muxer, encoder, output rate, bit rate)
FORMATS: dict[str, tuple[str, str, int, int | None]] = {
    "flac": ("flac", "flac", RATE, None),
    "mp3": ("mp3", "libmp3lame", RATE, 128_000),
    "opus": ("ogg", "libopus", 48000, 64_000),
    "wav22": ("wav", "pcm_s16le", 22050, None),
    "wav48": ("wav", "pcm_s16le", 48000, None),
}


def write_audio(path: Path, samples: FloatArray, fmt: str = "flac") -> Path:
    """Write mono float ``samples`` (at ``RATE``) as stereo ``fmt``, resampled by ffmpeg."""
    muxer, codec, rate, bit_rate = FORMATS[fmt]
    stereo = np.clip(np.stack([samples, samples]), -1.0, 1.0).astype(np.float32)
    with av.open(str(path), "w", format=muxer) as out:
        stream = out.add_stream(codec, rate=rate, layout="stereo")
        if not isinstance(stream, av.AudioStream):
            raise TypeError(f"{codec} is not an audio encoder")
        if bit_rate:
            stream.codec_context.bit_rate = bit_rate
        resampler = av.AudioResampler(
            format=stream.codec_context.format, layout="stereo", rate=rate
        )
        for pos in range(0, stereo.shape[1], 8192):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(stereo[:, pos : pos + 8192]), format="fltp", layout="stereo"
            )
            frame.sample_rate = RATE
            for converted in resampler.resample(frame):
                converted.pts = None
                out.mux(stream.encode(converted))
        for converted in resampler.resample(None):
            converted.pts = None
            out.mux(stream.encode(converted))
        out.mux(stream.encode(None))
    return path


def _gain(db: float) -> Callable[[FloatArray], FloatArray]:
    return lambda s: s * 10 ** (db / 20)


def _same(s: FloatArray) -> FloatArray:
    return s


CUT_SECONDS = 15.0

# name -> (format, change to the samples); what the bench and the tests query with.
TRANSFORMS: dict[str, tuple[str, Callable[[FloatArray], FloatArray]]] = {
    "mp3-128k": ("mp3", _same),
    "opus-64k": ("opus", _same),
    "resample-22k": ("wav22", _same),
    "resample-48k": ("wav48", _same),
    "gain-6db": ("flac", _gain(-6)),
    "gain+6db": ("flac", _gain(6)),
    "cut-15s": ("flac", lambda s: s[int(CUT_SECONDS * RATE) :]),
}


def write_copy(path: Path, samples: FloatArray, transform: str) -> Path:
    fmt, change = TRANSFORMS[transform]
    return write_audio(path, change(samples), fmt)
