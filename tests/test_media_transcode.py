"""Whether a file needs transcoding for browsers, and transcoding it."""

from __future__ import annotations

from pathlib import Path

import pytest

from plyr.media import (
    CorruptFile,
    needs_transcode,
    probe_audio,
    sniff_audio,
    transcode,
    transcode_reason,
)
from tests.support.audio import id3_tag_size, make_audio, make_garbage_after_header
from tests.support.media import (
    audio_files_fixture,  # noqa: F401 - the audio_files fixture
    cover_fixture,  # noqa: F401 - the cover fixture
    decoded_seconds,
)

# --- transcode decisions ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("mp3", False),
        ("wav", False),
        ("aiff", True),
        ("flac", False),
        ("ogg-vorbis", True),
        ("ogg-opus", False),
        ("m4a-aac", False),
        ("m4a-alac", True),
        ("webm-opus", False),
    ],
)
def test_needs_transcode(audio_files: dict[str, Path], fmt: str, expected: bool) -> None:
    info = probe_audio(audio_files[fmt])
    size = audio_files[fmt].stat().st_size
    assert needs_transcode(info, info.format, size) is expected
    assert (transcode_reason(info, info.format, size) is not None) is expected


def test_large_wav_needs_transcode(audio_files: dict[str, Path]) -> None:
    info = probe_audio(audio_files["wav"])
    assert not needs_transcode(info, info.format, 50 * 1024 * 1024)
    assert needs_transcode(info, info.format, 50 * 1024 * 1024 + 1)
    assert needs_transcode(info, info.format, 2_000_000, wav_limit_bytes=1_000_000)
    assert transcode_reason(info, info.format, 60 * 1024 * 1024) == "wav larger than 50 MB"
    assert transcode_reason(info, info.format, 10) is None


# --- transcoding ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def three_second_sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sources")
    return {
        fmt: make_audio(folder / f"{fmt}.bin", fmt, seconds=3.0) for fmt in ("aiff", "m4a-alac")
    }


@pytest.mark.parametrize("source", ["aiff", "m4a-alac"])
@pytest.mark.parametrize("target", ["mp3", "opus"])
def test_transcode(
    three_second_sources: dict[str, Path], tmp_path: Path, source: str, target: str
) -> None:
    src = three_second_sources[source]
    reports: list[float] = []
    out = transcode(src, tmp_path, target, reports.append)  # type: ignore[arg-type]
    assert out.parent == tmp_path
    assert not list(tmp_path.glob(".*.part"))
    fmt = sniff_audio(out)
    info = probe_audio(out)
    assert decoded_seconds(out) == pytest.approx(3.0, abs=0.1)
    assert info.duration == pytest.approx(3.0, abs=0.1)
    assert info.channels == 2
    if target == "mp3":
        assert (fmt.container, fmt.codec, out.suffix) == ("mp3", "mp3", ".mp3")
        assert info.sample_rate == 44100
        assert info.bit_rate == pytest.approx(320_000, rel=0.02)
    else:
        assert (fmt.container, fmt.codec, out.suffix) == ("ogg", "opus", ".opus")
        assert info.sample_rate == 48000
    assert reports == sorted(reports)
    assert reports[-1] == 1.0
    assert len(reports) > 10


def test_transcode_keeps_mono_downmixes_surround_and_picks_rates(tmp_path: Path) -> None:
    mono = transcode(make_audio(tmp_path / "mono", "wav", channels=1, sample_rate=96000), tmp_path)
    assert (probe_audio(mono).channels, probe_audio(mono).sample_rate) == (1, 48000)
    surround = transcode(
        make_audio(tmp_path / "six", "flac", channels=6, sample_rate=88200), tmp_path
    )
    assert (probe_audio(surround).channels, probe_audio(surround).sample_rate) == (2, 44100)


def test_transcode_refuses_corrupt_input_and_leaves_nothing(
    audio_files: dict[str, Path], tmp_path: Path
) -> None:
    mp3 = audio_files["mp3"]
    garbage = make_garbage_after_header(mp3, tmp_path / "garbage.mp3", id3_tag_size(mp3))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(CorruptFile):
        transcode(garbage, out_dir)
    assert list(out_dir.iterdir()) == []
