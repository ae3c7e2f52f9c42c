"""Sniffing: the real format of audio and image files, whatever their names say."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from plyr.media import (
    ACCEPTED_AUDIO,
    ACCEPTED_IMAGES,
    CorruptFile,
    MetadataTooLarge,
    UnsafeImage,
    UnsupportedFormat,
    UnsupportedImage,
    check_image,
    probe_audio,
    sniff_audio,
    sniff_image,
)
from tests.support.audio import (
    AUDIO_FORMATS,
    id3_tag_size,
    make_audio,
    make_garbage_after_header,
    make_image,
    make_png_bomb,
    make_text,
    make_truncated,
    make_zip,
)
from tests.support.bad_files import add_id3_junk, make_wav_claiming
from tests.support.media import (
    EXPECTED_FORMATS,
    IMAGE_FORMATS,
    audio_files_fixture,  # noqa: F401 - the audio_files fixture
    cover_fixture,  # noqa: F401 - the cover fixture
)


@pytest.mark.parametrize("fmt", list(AUDIO_FORMATS))
def test_sniff_audio_finds_the_real_format(audio_files: dict[str, Path], fmt: str) -> None:
    found = sniff_audio(audio_files[fmt])
    assert (
        found.container,
        found.codec,
        found.extension,
        found.mime,
        found.browser_playable,
    ) == EXPECTED_FORMATS[fmt]


@pytest.mark.parametrize(
    ("maker", "name"),
    [
        (make_text, "notes.mp3"),
        (make_zip, "album.flac"),
        (lambda p: p.write_bytes(b""), "empty.wav"),
        (lambda p: make_image(p, "jpeg"), "cover.mp3"),
        (lambda p: make_image(p, "heic"), "photo.m4a"),
    ],
    ids=["text", "zip", "empty", "jpeg", "heic"],
)
def test_sniff_audio_refuses_what_is_not_audio(tmp_path: Path, maker: object, name: str) -> None:
    path = tmp_path / name
    maker(path)  # type: ignore[operator]
    with pytest.raises(UnsupportedFormat) as error:
        sniff_audio(path)
    assert f"accepted: {ACCEPTED_AUDIO}" in str(error.value)
    assert "accepted: mp3, wav, m4a (aac, alac), flac, aiff, ogg (vorbis, opus), webm (opus)" in (
        str(error.value)
    )


def test_sniff_audio_refuses_ogg_with_another_codec(tmp_path: Path) -> None:
    path = tmp_path / "speech.ogg"
    with av.open(str(path), "w", format="ogg") as out:
        stream = out.add_stream("flac", rate=44100, layout="stereo")
        frame = av.AudioFrame.from_ndarray(
            np.zeros((2, 4096), np.float32), format="fltp", layout="stereo"
        )
        frame.sample_rate = 44100
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with pytest.raises(UnsupportedFormat, match="accepted: "):
        sniff_audio(path)


def test_mp3_truncated_to_its_header_is_corrupt(
    audio_files: dict[str, Path], tmp_path: Path
) -> None:
    mp3 = audio_files["mp3"]
    header_only = make_truncated(mp3, tmp_path / "cut.mp3", id3_tag_size(mp3))
    with pytest.raises(CorruptFile, match="can't be decoded"):
        sniff_audio(header_only)
    with pytest.raises(CorruptFile):
        sniff_audio(make_truncated(mp3, tmp_path / "cut2.mp3", id3_tag_size(mp3) + 300))


def test_mp3_with_garbage_after_the_header_is_corrupt(
    audio_files: dict[str, Path], tmp_path: Path
) -> None:
    mp3 = audio_files["mp3"]
    garbage = make_garbage_after_header(mp3, tmp_path / "garbage.mp3", id3_tag_size(mp3))
    with pytest.raises(CorruptFile):
        sniff_audio(garbage)
    frame_then_garbage = tmp_path / "frame.mp3"
    frame_then_garbage.write_bytes(b"\xff\xfb\x90\x64" + np.random.default_rng(3).bytes(50_000))
    with pytest.raises(CorruptFile):
        sniff_audio(frame_then_garbage)


@pytest.mark.parametrize("fmt", ["wav", "aiff", "flac", "ogg-opus", "m4a-aac", "m4a-alac"])
def test_truncated_files_are_corrupt(
    audio_files: dict[str, Path], tmp_path: Path, fmt: str
) -> None:
    source = audio_files[fmt]
    cut = make_truncated(source, tmp_path / "cut", source.stat().st_size // 3)
    with pytest.raises(CorruptFile):
        sniff_audio(cut)


@pytest.mark.parametrize("fmt", IMAGE_FORMATS)
def test_sniff_image_finds_the_real_format(tmp_path: Path, fmt: str) -> None:
    found = sniff_image(make_image(tmp_path / "cover.png.txt", fmt))
    assert found.format == fmt
    assert found.mime == f"image/{fmt}"


@pytest.mark.parametrize("maker", [make_zip, make_text], ids=["zip", "text"])
def test_sniff_image_refuses_other_files(tmp_path: Path, maker: object) -> None:
    path = maker(tmp_path / "cover.jpg")  # type: ignore[operator]
    with pytest.raises(UnsupportedImage) as error:
        sniff_image(path)
    assert f"accepted: {ACCEPTED_IMAGES}" in str(error.value)


def test_tags_past_the_limit_are_refused_before_decoding(
    audio_files: dict[str, Path], tmp_path: Path
) -> None:
    id3_junk = add_id3_junk(make_audio(tmp_path / "junk.mp3", "mp3"), 33)
    with pytest.raises(MetadataTooLarge, match="the tags are too large"):
        sniff_audio(id3_junk)
    # FLAC: three 16 MB padding blocks between STREAMINFO and the audio.
    flac = audio_files["flac"].read_bytes()
    streaminfo = flac[4 : 4 + 4 + 34]
    block = bytes([streaminfo[0] & 0x7F]) + streaminfo[1:]  # no longer the last block
    padding = bytes([1]) + (0xFFFFFF).to_bytes(3, "big") + bytes(0xFFFFFF)
    padded = tmp_path / "padded.flac"
    padded.write_bytes(b"fLaC" + block + padding * 3 + flac[4 + 38 :])
    with pytest.raises(MetadataTooLarge, match="the tags are too large"):
        sniff_audio(padded)
    # The files they were made from pass.
    assert sniff_audio(audio_files["flac"]).container == "flac"
    assert sniff_audio(make_audio(tmp_path / "plain.mp3", "mp3")).container == "mp3"


def test_a_wav_whose_data_chunk_claims_4_gb_is_truncated(
    audio_files: dict[str, Path], tmp_path: Path
) -> None:
    claims = make_wav_claiming(
        audio_files["wav"], tmp_path / "4gb.wav", riff=None, data=2**32 - 256
    )
    with pytest.raises(CorruptFile, match="bytes of audio"):
        sniff_audio(claims)
    # Streaming writers' "unknown length" marker is not a claim: accepted and measured.
    unknown = make_wav_claiming(
        audio_files["wav"], tmp_path / "stream.wav", riff=0xFFFFFFFF, data=0xFFFFFFFF
    )
    assert sniff_audio(unknown).container == "wav"
    assert probe_audio(unknown).duration == pytest.approx(2.0, abs=0.05)


def test_check_image_reads_the_header_only(tmp_path: Path) -> None:
    assert check_image(make_image(tmp_path / "cover.bin", "png")).format == "png"
    with pytest.raises(UnsafeImage, match="pixels"):
        check_image(make_png_bomb(tmp_path / "bomb.png"))
    with pytest.raises(CorruptFile):
        check_image(make_truncated(make_image(tmp_path / "c.jpg", "jpeg"), tmp_path / "x.jpg", 40))
    with pytest.raises(UnsupportedImage):
        check_image(make_zip(tmp_path / "cover.jpg"))
