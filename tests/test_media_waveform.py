"""Waveforms (`plyr.media.waveform`): the peaks of real encoded audio show what is in it (a
tone with a silent half), the meter's buckets hold whatever the block sizes and the length,
the stored form reads back, and a file that can't be decoded is a clear MediaError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from plyr.media.errors import MediaError
from plyr.media.loudness import integrated_loudness
from plyr.media.waveform import BUCKETS, LEVELS, PeakMeter, Waveform, waveform_of
from tests.support.audio import make_audio, make_garbage_after_header, make_truncated
from tests.support.waveforms import tone_then_silence


@pytest.mark.parametrize("fmt", ["wav", "mp3", "flac"])
def test_a_tone_with_a_silent_half_shows_it(tmp_path: Path, fmt: str) -> None:
    waveform = waveform_of(tone_then_silence(tmp_path / f"half.{fmt}", fmt))
    assert len(waveform.peaks) == len(waveform.rms) == BUCKETS
    assert waveform.duration == pytest.approx(6.0, abs=0.1)
    first, second = waveform.peaks[:480], waveform.peaks[520:]
    # Half scale: a peak of about 128 of 255; an RMS of 0.5/sqrt(2) (about 90).
    assert min(first) >= 110, min(first)
    assert max(first) <= 140, max(first)
    assert max(second) <= 1, max(second)
    assert 80 <= float(np.mean(waveform.rms[:480])) <= 100
    assert max(waveform.rms[520:]) <= 1


def test_a_short_file_gives_fewer_buckets_than_samples_allow(tmp_path: Path) -> None:
    waveform = waveform_of(make_audio(tmp_path / "short.wav", "wav", seconds=0.01))
    assert 0 < len(waveform.peaks) <= BUCKETS
    assert waveform.duration == pytest.approx(0.01, abs=0.002)


@pytest.mark.parametrize("block", [1, 37, 4096, 100_000])
def test_the_meter_holds_whatever_the_block_sizes(block: int) -> None:
    """A ramp over 10 minutes (8 kHz; 200 Hz for the small blocks, a Python call each):
    every bucket's peak is the ramp's end in it, the buckets stay few (memory) and do not
    depend on how the samples were cut."""
    rate, seconds = (8000 if block >= 4096 else 200), 600
    ramp = np.linspace(0.0, 1.0, rate * seconds, endpoint=False)
    meter = PeakMeter(rate, buckets=100)
    for start in range(0, ramp.shape[0], block):
        meter.add(ramp[None, start : start + block])
        assert meter._count <= 4 * 100 + block // 64 + 2
    waveform = meter.result()
    assert waveform.duration == pytest.approx(seconds)
    assert len(waveform.peaks) == 100
    expected = [round((i + 1) / 100 * LEVELS) for i in range(100)]
    assert all(abs(a - b) <= 3 for a, b in zip(waveform.peaks, expected, strict=True))
    assert list(waveform.peaks) == sorted(waveform.peaks)


def test_the_loudness_pass_feeds_the_same_peaks(tmp_path: Path) -> None:
    """An upload's waveform comes from the loudness decode (one pass): the same figures as
    decoding for the waveform alone."""
    path = tone_then_silence(tmp_path / "half.flac", "flac")
    meters: list[PeakMeter] = []

    def peak_meter(rate: int) -> PeakMeter:
        meters.append(PeakMeter(rate))
        return meters[-1]

    loudness = integrated_loudness(path, listeners=[lambda rate: peak_meter(rate).add])
    assert loudness.lufs < 0
    assert meters[0].result() == waveform_of(path)


def test_the_stored_form_reads_back_and_is_deterministic(tmp_path: Path) -> None:
    waveform = waveform_of(make_audio(tmp_path / "tone.mp3", "mp3", seconds=1.0))
    data = waveform.to_bytes()
    assert Waveform.from_bytes(data) == waveform
    assert waveform_of(tmp_path / "tone.mp3").to_bytes() == data
    for bad in (b"", b"{}", b"[1,2]", b'{"version":1,"duration":1,"peaks":[300],"rms":[1]}'):
        with pytest.raises(ValueError, match="stored waveform"):
            Waveform.from_bytes(bad)


def test_a_file_that_cannot_be_decoded_is_a_media_error(tmp_path: Path) -> None:
    good = make_audio(tmp_path / "good.mp3", "mp3", seconds=3.0)
    broken = make_garbage_after_header(good, tmp_path / "broken.mp3", header=0)
    with pytest.raises(MediaError, match="not an audio format"):
        waveform_of(broken)
    flac = make_audio(tmp_path / "good.flac", "flac", seconds=3.0)
    with pytest.raises(MediaError, match="can't be decoded"):
        waveform_of(make_truncated(flac, tmp_path / "cut.flac", keep=60))
