"""Real audio for the load: a sine tone of some length in MP3, FLAC or AIFF, written with
PyAV a block at a time (a different pitch per file keeps uploads distinct)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

RATE = 44_100
BLOCK = 4096
# format → (muxer, encoder)
FORMATS = {"mp3": ("mp3", "libmp3lame"), "flac": ("flac", "flac"), "aiff": ("aiff", "pcm_s16be")}


def write_tone(path: Path, seconds: float, freq: float) -> Path:
    muxer, codec = FORMATS[path.suffix.lstrip(".")]
    total = round(seconds * RATE)
    with av.open(str(path), "w", format=muxer) as out:
        stream = out.add_stream(codec, rate=RATE, layout="stereo")
        assert isinstance(stream, av.AudioStream)
        if codec == "libmp3lame":
            stream.bit_rate = 128_000  # what the listeners' playback rate assumes
        for start in range(0, total, BLOCK):
            count = min(BLOCK, total - start)
            tone = 0.4 * np.sin(2 * np.pi * freq * np.arange(start, start + count) / RATE)
            frame = av.AudioFrame.from_ndarray(
                np.stack([tone, tone]).astype(np.float32), format="fltp", layout="stereo"
            )
            frame.sample_rate = RATE
            frame.pts = start
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path
