"""A track's waveform: the peaks a player draws, computed in one streamed decode.

- ``PeakMeter`` takes planar float blocks ``(channels, samples)`` as a decoder yields them
  (the loudness pass feeds it the same blocks: ``integrated_loudness(..., listeners=…)``)
  and keeps, per *fine bucket*, the largest |sample| of any channel, the sum of squares
  (RMS, averaged over the channels) and the bucket's length. The fine buckets start at 64
  samples; when there are more than ``4 * buckets`` of them, neighbours merge pairwise. So
  memory stays flat whatever the track's length, and the duration need not be known up front.
- ``result`` groups the fine buckets into at most ``buckets`` (by where they start in the
  track) and quantises peak and RMS to 0..255: about 2 kB of numbers for a whole track.
- ``waveform_of`` decodes a file for this alone (the backfill of tracks from before
  waveforms); an upload gets its waveform from the loudness pass for free.

The serialised form (``Waveform.to_bytes``) is compact JSON with sorted keys, so the same
audio always gives the same bytes: plyr stores it content-addressed beside the audio.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from plyr.media.decoding import decoded_audio
from plyr.media.errors import CorruptFile
from plyr.media.sniff import AudioFormat, StrPath

FloatArray = npt.NDArray[np.float64]

BUCKETS: Final = 1000
LEVELS: Final = 255  # peaks and RMS are quantised to 0..LEVELS
FORMAT_VERSION: Final = 1
_FIRST_BUCKET: Final = 64


@dataclass(frozen=True, slots=True)
class Waveform:
    """Peaks and RMS per bucket (0..255, linear amplitude) over ``duration`` seconds."""

    duration: float
    peaks: tuple[int, ...]
    rms: tuple[int, ...]

    def to_bytes(self) -> bytes:
        """Deterministic JSON (the stored object; the same audio gives the same bytes)."""
        body = {
            "version": FORMAT_VERSION,
            "duration": round(self.duration, 3),
            "peaks": list(self.peaks),
            "rms": list(self.rms),
        }
        return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Waveform:
        """Read a stored waveform; ValueError when it is not one."""
        try:
            body: Any = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError("not a stored waveform") from exc
        if not isinstance(body, dict) or body.get("version") != FORMAT_VERSION:
            raise ValueError("not a stored waveform (or another version)")
        peaks, rms, duration = body.get("peaks"), body.get("rms"), body.get("duration")
        if (
            not isinstance(peaks, list)
            or not isinstance(rms, list)
            or len(peaks) != len(rms)
            or not isinstance(duration, int | float)
            or not all(isinstance(v, int) and 0 <= v <= LEVELS for v in [*peaks, *rms])
        ):
            raise ValueError("a stored waveform with invalid values")
        return cls(float(duration), tuple(peaks), tuple(rms))


class PeakMeter:
    """Feed planar float blocks ``(channels, samples)`` with ``add``; read ``result``."""

    def __init__(self, sample_rate: int, buckets: int = BUCKETS) -> None:
        if sample_rate <= 0 or buckets <= 0:
            raise ValueError("a peak meter needs a sample rate and a number of buckets")
        self.sample_rate = sample_rate
        self.buckets = buckets
        self._size = _FIRST_BUCKET  # samples per new fine bucket
        self._peaks: list[FloatArray] = []
        self._squares: list[FloatArray] = []
        self._lengths: list[npt.NDArray[np.int64]] = []
        self._count = 0  # fine buckets kept
        self._carry_peak = 0.0  # the samples of an unfinished bucket
        self._carry_square = 0.0
        self._carry_length = 0
        self._total = 0

    @property
    def samples(self) -> int:
        """Samples (per channel) seen so far."""
        return self._total

    def add(self, samples: npt.NDArray[Any]) -> None:
        if samples.ndim != 2 or samples.shape[1] == 0:
            return
        block = np.asarray(samples, dtype=np.float64)
        mono_peak = np.abs(block).max(axis=0)
        mono_square = (block * block).mean(axis=0)
        self._total += mono_peak.shape[0]
        # Finish the bucket a previous block left open.
        if self._carry_length:
            take = min(self._size - self._carry_length, mono_peak.shape[0])
            self._carry_peak = max(self._carry_peak, float(mono_peak[:take].max()))
            self._carry_square += float(mono_square[:take].sum())
            self._carry_length += take
            mono_peak, mono_square = mono_peak[take:], mono_square[take:]
            if self._carry_length == self._size:
                self._append(
                    np.array([self._carry_peak]),
                    np.array([self._carry_square]),
                    np.array([self._size], dtype=np.int64),
                )
                self._carry_peak = self._carry_square = 0.0
                self._carry_length = 0
        whole = mono_peak.shape[0] // self._size
        if whole:
            cut = whole * self._size
            self._append(
                mono_peak[:cut].reshape(whole, self._size).max(axis=1),
                mono_square[:cut].reshape(whole, self._size).sum(axis=1),
                np.full(whole, self._size, dtype=np.int64),
            )
            mono_peak, mono_square = mono_peak[cut:], mono_square[cut:]
        if mono_peak.shape[0]:
            self._carry_peak = float(mono_peak.max())
            self._carry_square = float(mono_square.sum())
            self._carry_length = mono_peak.shape[0]

    def _append(
        self, peaks: FloatArray, squares: FloatArray, lengths: npt.NDArray[np.int64]
    ) -> None:
        self._peaks.append(peaks)
        self._squares.append(squares)
        self._lengths.append(lengths)
        self._count += peaks.shape[0]
        if self._count > 4 * self.buckets:
            self._halve()

    def _halve(self) -> None:
        """Merge neighbouring fine buckets pairwise; new ones are twice as long."""
        peaks, squares, lengths = self._joined()
        pairs = peaks.shape[0] // 2 * 2
        merged_peaks = peaks[:pairs].reshape(-1, 2).max(axis=1)
        merged_squares = squares[:pairs].reshape(-1, 2).sum(axis=1)
        merged_lengths = lengths[:pairs].reshape(-1, 2).sum(axis=1)
        self._peaks = [np.concatenate([merged_peaks, peaks[pairs:]])]
        self._squares = [np.concatenate([merged_squares, squares[pairs:]])]
        self._lengths = [np.concatenate([merged_lengths, lengths[pairs:]])]
        self._count = self._peaks[0].shape[0]
        self._size *= 2

    def _joined(self) -> tuple[FloatArray, FloatArray, npt.NDArray[np.int64]]:
        if not self._peaks:
            return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64)
        return (
            np.concatenate(self._peaks),
            np.concatenate(self._squares),
            np.concatenate(self._lengths),
        )

    def result(self) -> Waveform:
        """At most ``buckets`` peaks and RMS values, quantised (the meter is then spent)."""
        if self._carry_length:
            self._peaks.append(np.array([self._carry_peak]))
            self._squares.append(np.array([self._carry_square]))
            self._lengths.append(np.array([self._carry_length], dtype=np.int64))
            self._carry_length = 0
        peaks, squares, lengths = self._joined()
        duration = self._total / self.sample_rate
        if peaks.shape[0] == 0:
            return Waveform(duration, (), ())
        starts = np.cumsum(lengths) - lengths
        groups = starts * self.buckets // self._total
        _, first = np.unique(groups, return_index=True)
        group_peaks = np.maximum.reduceat(peaks, first)
        group_rms = np.sqrt(np.add.reduceat(squares, first) / np.add.reduceat(lengths, first))
        return Waveform(duration, _quantised(group_peaks), _quantised(group_rms))


def _quantised(values: FloatArray) -> tuple[int, ...]:
    levels = np.rint(np.clip(values, 0.0, 1.0) * LEVELS).astype(np.int64)
    return tuple(int(v) for v in levels)


def waveform_of(
    path: StrPath,
    fmt: AudioFormat | None = None,
    *,
    buckets: int = BUCKETS,
    progress: Callable[[float], None] | None = None,
) -> Waveform:
    """Decode a whole file (streamed, block by block) into its waveform.

    What is wrong with the file raises a ``MediaError`` (``CorruptFile`` when it can't be
    decoded): retrying can't help.
    """
    with decoded_audio(path, fmt) as audio:
        meter = PeakMeter(audio.rate, buckets)
        expected = audio.expected_seconds
        for block in audio.blocks:
            meter.add(block)
            if progress is not None and math.isfinite(expected) and expected > 0:
                progress(meter.samples / meter.sample_rate / expected)
    if meter.samples == 0:
        raise CorruptFile("the file holds no audio samples")
    return meter.result()
