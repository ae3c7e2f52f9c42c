"""Probing: duration, streams, tags and cover art read from audio files."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from mutagen.mp3 import MP3

from plyr.media import CorruptFile, probe_audio
from tests.support.audio import (
    AUDIO_FORMATS,
    image_bytes,
    make_audio,
    make_truncated,
    make_vbr_mp3_without_xing,
)
from tests.support.media import (
    EXPECTED_FORMATS,
    audio_files_fixture,  # noqa: F401 - the audio_files fixture
    cover_fixture,  # noqa: F401 - the cover fixture
    decoded_seconds,
)


@pytest.mark.parametrize("fmt", list(AUDIO_FORMATS))
def test_probe_reads_duration_stream_and_tags(
    audio_files: dict[str, Path], cover: bytes, fmt: str
) -> None:
    info = probe_audio(audio_files[fmt])
    assert info.duration == pytest.approx(2.0, abs=0.05)
    assert info.duration_seconds == 2
    assert info.codec == EXPECTED_FORMATS[fmt][1]
    assert info.sample_rate == (48000 if "opus" in fmt else 44100)
    assert info.channels == 2
    assert info.bit_rate
    assert info.bit_rate > 0
    assert (info.title, info.artist, info.album) == ("Test Tone", "The Sines", "Waveforms")
    assert info.album_artist == "Various Sines"
    assert info.genre == "Electronic"
    assert info.date == "2024"
    assert info.track_number == 3
    if fmt == "webm-opus":  # mutagen can't write Matroska; we only read its tags
        assert info.cover is None
    else:
        assert info.cover == cover
        assert info.cover_mime == "image/jpeg"


def test_probe_png_cover_and_missing_tags(tmp_path: Path) -> None:
    png = image_bytes("png", (40, 40))
    info = probe_audio(make_audio(tmp_path / "a", "flac", cover=png))
    assert (info.cover, info.cover_mime) == (png, "image/png")
    assert (info.title, info.artist, info.track_number) == (None, None, None)


def test_probe_counts_a_vbr_mp3_without_xing_header(tmp_path: Path) -> None:
    path = make_vbr_mp3_without_xing(tmp_path / "vbr.mp3", seconds=10.0)
    assert MP3(path).info.length > 20  # estimated from the first (silent, 32k) frame
    info = probe_audio(path)
    assert info.duration == pytest.approx(decoded_seconds(path), abs=0.01)
    assert info.duration == pytest.approx(10.0, abs=0.06)  # plus the encoder's delay
    assert 100_000 < (info.bit_rate or 0) < 320_000


def test_probe_webm_without_duration_in_header(tmp_path: Path) -> None:
    path = make_audio(tmp_path / "recording", "webm-opus", seconds=3.0, seekable=False)
    with av.open(str(path)) as container:
        assert container.duration is None
    assert probe_audio(path).duration == pytest.approx(3.0, abs=0.05)


def test_probe_mono_and_multichannel(tmp_path: Path) -> None:
    assert probe_audio(make_audio(tmp_path / "m", "mp3", channels=1)).channels == 1
    assert probe_audio(make_audio(tmp_path / "s", "flac", channels=6)).channels == 6


def test_half_an_mp3_is_refused_as_truncated(audio_files: dict[str, Path], tmp_path: Path) -> None:
    mp3 = audio_files["mp3"]
    half = make_truncated(mp3, tmp_path / "half.mp3", mp3.stat().st_size // 2)
    # The Xing header still counts 2 s of frames; the packets hold 1 s: a cut-off upload.
    with pytest.raises(CorruptFile, match="truncated"):
        probe_audio(half)
    # Without a frame count nothing says it was longer: it probes to its real length.
    vbr = make_vbr_mp3_without_xing(tmp_path / "vbr.mp3")
    half_vbr = make_truncated(vbr, tmp_path / "half-vbr.mp3", vbr.stat().st_size // 2)
    assert probe_audio(half_vbr).duration == pytest.approx(decoded_seconds(half_vbr), abs=0.06)
