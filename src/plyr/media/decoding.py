"""A file decoded block by block as planar float64 at its own sample rate: what loudness and
the waveform read, from one place that picks the audio stream, names a channel layout
ffmpeg left unnamed, and turns a decoding failure into ``CorruptFile``. Blocks are a few
thousand samples each, so memory stays flat whatever the file's length."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import av
import av.error
import numpy as np
import numpy.typing as npt

from plyr.media.errors import CorruptFile
from plyr.media.sniff import AudioFormat, StrPath, best_audio_stream, sniff_audio

FloatArray = npt.NDArray[np.float64]

_DEFAULT_LAYOUTS: Final = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0"}


@dataclass(frozen=True)
class DecodedAudio:
    rate: int
    channel_names: list[str]
    expected_seconds: float  # the container's duration; inf when it does not say
    blocks: Iterator[FloatArray]  # (channels, samples) each


@contextlib.contextmanager
def decoded_audio(path: StrPath, fmt: AudioFormat | None = None) -> Iterator[DecodedAudio]:
    """Open `path` (sniffed unless `fmt` is given) for reading its blocks inside the block.
    A file with no audio, or one that fails to decode part way, raises ``CorruptFile``."""
    if fmt is None:
        fmt = sniff_audio(path)
    try:
        with av.open(os.fspath(path), format=fmt.demuxer) as container:
            stream = best_audio_stream(container)
            if stream is None:
                raise CorruptFile("the file holds no audio")
            layout = stream.layout
            names = [c.name for c in layout.channels]
            if any(name in ("NONE", "") for name in names) or len(names) != stream.channels:
                layout = av.AudioLayout(_DEFAULT_LAYOUTS.get(stream.channels, "stereo"))
                names = [c.name for c in layout.channels]
            rate = stream.sample_rate
            resampler = av.AudioResampler(format="dblp", layout=layout, rate=rate)
            duration = container.duration
            expected = float(duration) / av.time_base if duration else math.inf

            def blocks() -> Iterator[FloatArray]:
                for frame in container.decode(stream):
                    frame.pts = None  # the resampler needs none; some demuxers give odd ones
                    for converted in resampler.resample(frame):
                        yield np.asarray(converted.to_ndarray(), dtype=np.float64)
                for converted in resampler.resample(None):
                    yield np.asarray(converted.to_ndarray(), dtype=np.float64)

            yield DecodedAudio(rate, names, expected, blocks())
    except av.error.FFmpegError:
        raise CorruptFile("the audio can't be decoded; it may be truncated or damaged") from None
