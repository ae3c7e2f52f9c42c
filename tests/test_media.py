"""The media layer: sniffing, probing, transcoding, loudness, artwork, the process pool."""

from __future__ import annotations

import asyncio
import itertools
import math
import pickle
import threading
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from mutagen.mp3 import MP3
from PIL import Image

from plyr.media import (
    ACCEPTED_AUDIO,
    ACCEPTED_IMAGES,
    AudioInfo,
    CorruptFile,
    Loudness,
    UnsafeImage,
    UnsupportedFormat,
    UnsupportedImage,
    artwork_from_bytes,
    integrated_loudness,
    needs_transcode,
    playback_gain_db,
    probe_audio,
    process_artwork,
    sniff_audio,
    sniff_image,
    transcode,
    transcode_reason,
)
from plyr.media.loudness import LoudnessMeter, channel_weights, k_weighting
from plyr.media.pool import MediaPool
from tests.support.audio import (
    AUDIO_FORMATS,
    TAGS,
    id3_tag_size,
    image_bytes,
    make_audio,
    make_garbage_after_header,
    make_image,
    make_png_bomb,
    make_text,
    make_truncated,
    make_vbr_mp3_without_xing,
    make_zip,
)

# format -> (container, codec, extension, mime, browser_playable)
EXPECTED_FORMATS = {
    "mp3": ("mp3", "mp3", "mp3", "audio/mpeg", True),
    "wav": ("wav", "pcm", "wav", "audio/wav", True),
    "aiff": ("aiff", "pcm", "aiff", "audio/aiff", False),
    "flac": ("flac", "flac", "flac", "audio/flac", True),
    "ogg-vorbis": ("ogg", "vorbis", "ogg", "audio/ogg", False),
    "ogg-opus": ("ogg", "opus", "opus", "audio/ogg", True),
    "m4a-aac": ("mp4", "aac", "m4a", "audio/mp4", True),
    "m4a-alac": ("mp4", "alac", "m4a", "audio/mp4", False),
    "webm-opus": ("webm", "opus", "webm", "audio/webm", True),
}
# Each file gets the extension of another format, so nothing can lean on the name.
MISLEADING_EXTENSION = {
    "mp3": ".wav",
    "wav": ".mp3",
    "aiff": ".flac",
    "flac": ".m4a",
    "ogg-vorbis": ".opus",
    "ogg-opus": ".ogg",
    "m4a-aac": ".webm",
    "m4a-alac": ".aac",
    "webm-opus": ".mp3",
}
IMAGE_FORMATS = ["jpeg", "png", "webp", "gif", "heic"]
RED = (220, 20, 20)
BLUE = (20, 20, 220)


@pytest.fixture(scope="module")
def cover() -> bytes:
    return image_bytes("jpeg", (120, 120))


@pytest.fixture(scope="module")
def audio_files(tmp_path_factory: pytest.TempPathFactory, cover: bytes) -> dict[str, Path]:
    """Two-second tagged tones with cover art, one per format, misleadingly named."""
    folder = tmp_path_factory.mktemp("audio")
    return {
        fmt: make_audio(
            folder / f"{fmt}-track{MISLEADING_EXTENSION[fmt]}", fmt, tags=TAGS, cover=cover
        )
        for fmt in AUDIO_FORMATS
    }


def decoded_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.sample_rate


# --- sniffing ---------------------------------------------------------------------------


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


# --- probing ----------------------------------------------------------------------------


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


def test_half_an_mp3_probes_to_its_real_length(
    audio_files: dict[str, Path], tmp_path: Path
) -> None:
    mp3 = audio_files["mp3"]
    half = make_truncated(mp3, tmp_path / "half.mp3", mp3.stat().st_size // 2)
    # The Xing header still says 2 s; the packets say otherwise.
    assert probe_audio(half).duration == pytest.approx(decoded_seconds(half), abs=0.06)


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


# --- loudness ---------------------------------------------------------------------------


def sine(
    rate: int,
    amplitudes: list[float],
    seconds: float = 10.0,
    freq: float = 997.0,
    phase: float = 0.0,
) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return np.stack([a * np.sin(2 * np.pi * freq * t + phase) for a in amplitudes])


def measure(
    samples: np.ndarray, rate: int, chunk: int = 10_000, weights: list[float] | None = None
):
    meter = LoudnessMeter(rate, weights or [1.0] * samples.shape[0])
    for start in range(0, samples.shape[1], chunk):
        meter.add(samples[:, start : start + chunk])
    return meter.result()


def test_k_weighting_matches_the_48k_table_of_bs1770() -> None:
    shelf, high_pass = k_weighting(48000)
    assert shelf == pytest.approx(
        (
            1.53512485958697,
            -2.69169618940638,
            1.19839281085285,
            -1.69065929318241,
            0.73248077421585,
        ),
        abs=1e-9,
    )
    assert high_pass == pytest.approx(
        (1.0, -2.0, 1.0, -1.99004745483398, 0.99007225036621), abs=1e-9
    )


@pytest.mark.parametrize("rate", [48000, 44100])
def test_reference_tones(rate: int) -> None:
    # BS.1770: a 0 dBFS 997 Hz sine in one front channel reads -3.01 LKFS.
    assert measure(sine(rate, [1.0, 0.0]), rate).lufs == pytest.approx(-3.01, abs=0.1)
    assert measure(sine(rate, [0.1, 0.0]), rate).lufs == pytest.approx(-23.01, abs=0.1)
    # EBU Tech 3341 case 1: -23 dBFS in both channels reads -23.0 LUFS.
    assert measure(sine(rate, [10 ** (-23 / 20)] * 2), rate).lufs == pytest.approx(-23.0, abs=0.1)
    assert measure(sine(rate, [1.0, 1.0]), rate).lufs == pytest.approx(0.0, abs=0.1)


def test_reference_tones_from_files(tmp_path: Path) -> None:
    left = make_audio(tmp_path / "left", "wav", 5.0, 997, 48000, amplitudes=[1.0, 0.0], pcm="f32")
    assert integrated_loudness(left).lufs == pytest.approx(-3.01, abs=0.02)
    quiet = make_audio(tmp_path / "quiet", "flac", 5.0, 997, 44100, amplitudes=[0.1, 0.0])
    result = integrated_loudness(quiet)
    assert result.lufs == pytest.approx(-23.01, abs=0.1)
    assert result.sample_peak_dbfs == pytest.approx(-20.0, abs=0.01)
    mono = make_audio(tmp_path / "mono", "wav", 5.0, 997, 48000, channels=1, amplitude=0.1)
    assert integrated_loudness(mono, dual_mono=False).lufs == pytest.approx(-23.01, abs=0.05)
    assert integrated_loudness(mono).lufs == pytest.approx(-20.0, abs=0.05)


def test_silence_and_short_files() -> None:
    silent = measure(np.zeros((2, 48000 * 2)), 48000)
    assert silent.lufs == -math.inf
    assert silent.true_peak_dbtp == -math.inf
    assert playback_gain_db(silent.lufs, peak_dbfs=silent.true_peak_dbtp) == 0.0
    assert measure(sine(48000, [0.5, 0.5], seconds=0.3), 48000).lufs == -math.inf


def test_true_peak_finds_the_peak_between_samples() -> None:
    # fs/4 at 45°: every sample is at ±0.707, the waveform peaks at 1.0.
    result = measure(sine(48000, [1.0, 1.0], seconds=2, freq=12000, phase=math.pi / 4), 48000)
    assert result.sample_peak_dbfs == pytest.approx(-3.01, abs=0.01)
    assert result.true_peak_dbtp == pytest.approx(0.0, abs=0.2)


def test_surround_channels_weigh_more() -> None:
    weights = channel_weights(["FL", "FR", "FC", "LFE", "SL", "SR"])
    assert weights == [1.0, 1.0, 1.0, 0.0, 1.41, 1.41]
    front = measure(sine(48000, [0.1, 0, 0, 0, 0, 0], 3), 48000, weights=weights).lufs
    side = measure(sine(48000, [0, 0, 0, 0, 0.1, 0], 3), 48000, weights=weights).lufs
    lfe = measure(sine(48000, [0, 0, 0, 0.5, 0, 0], 3), 48000, weights=weights).lufs
    assert side - front == pytest.approx(10 * math.log10(1.41), abs=0.001)
    assert lfe == -math.inf


def gating_test_signal(rate: int) -> np.ndarray:
    """Noise and tones at levels that exercise both gates, different in each channel."""
    rng = np.random.default_rng(5)
    parts = [
        rng.standard_normal((2, 4 * rate)) * [[0.1], [0.05]],  # loud
        np.zeros((2, 2 * rate)),  # below the absolute gate
        sine(rate, [0.003, 0.003], seconds=3, freq=300),  # below the relative gate
        rng.standard_normal((2, 3 * rate)) * [[0.25], [0.2]] + sine(rate, [0.2, 0], 3, 60),
    ]
    return np.concatenate(parts, axis=1)


def reference_loudness(samples: np.ndarray, rate: int) -> float:
    """BS.1770 done plainly: ffmpeg's biquad filters (an IIR in C) and whole-array gating."""
    graph = av.filter.Graph()
    source = graph.add_abuffer(
        sample_rate=rate, format="dblp", layout="stereo", time_base=Fraction(1, rate)
    )
    nodes = [source]
    for f in k_weighting(rate):
        coefficients = dict(b0=f.b0, b1=f.b1, b2=f.b2, a0=1.0, a1=f.a1, a2=f.a2)
        nodes.append(
            graph.add("biquad", **{k: repr(v) for k, v in coefficients.items()}, precision="f64")
        )
    nodes.append(graph.add("abuffersink"))
    for a, b in itertools.pairwise(nodes):
        a.link_to(b)
    graph.configure()
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(samples), format="dblp", layout="stereo"
    )
    frame.sample_rate = rate
    frame.pts = 0
    graph.push(frame)
    graph.push(None)
    out = []
    while True:
        try:
            out.append(graph.pull().to_ndarray())
        except (av.BlockingIOError, av.EOFError):
            break
    filtered = np.concatenate(out, axis=1)
    block, step = round(0.4 * rate), round(0.1 * rate)
    powers = np.array(
        [
            (filtered[:, s : s + block] ** 2).mean(axis=1).sum()
            for s in range(0, filtered.shape[1] - block + 1, step)
        ]
    )
    loudness = -0.691 + 10 * np.log10(np.maximum(powers, 1e-300))
    gated = powers[loudness > -70]
    relative = -0.691 + 10 * np.log10(gated.mean()) - 10
    return float(-0.691 + 10 * np.log10(powers[(loudness > -70) & (loudness > relative)].mean()))


@pytest.mark.parametrize("rate", [44100, 48000])
def test_meter_matches_a_plain_reference(rate: int) -> None:
    samples = gating_test_signal(rate)
    expected = reference_loudness(samples, rate)
    # Odd chunk sizes exercise the streaming boundaries.
    assert measure(samples, rate, chunk=7919).lufs == pytest.approx(expected, abs=1e-6)
    assert measure(samples, rate, chunk=100_000).lufs == pytest.approx(expected, abs=1e-6)


def test_file_measurement_agrees_with_ffmpeg_ebur128(tmp_path: Path) -> None:
    rate = 48000
    samples = gating_test_signal(rate).astype(np.float32)
    path = tmp_path / "signal.wav"
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_f32le", rate=rate, layout="stereo")
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
        frame.sample_rate = rate
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    ours = integrated_loudness(path)
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        graph = av.filter.Graph()
        source = graph.add_abuffer(template=stream)
        meter = graph.add("ebur128", metadata="1")
        sink = graph.add("abuffersink")
        source.link_to(meter)
        meter.link_to(sink)
        graph.configure()
        last = None
        for frame in container.decode(stream):
            graph.push(frame)
            while True:
                try:
                    last = graph.pull()
                except (av.BlockingIOError, av.EOFError):
                    break
    assert last is not None
    assert ours.lufs == pytest.approx(float(last.metadata["lavfi.r128.I"]), abs=0.05)


@pytest.mark.parametrize(
    ("lufs", "peak", "expected"),
    [
        (-14.0, -3.0, 0.0),
        (-10.0, -0.1, -4.0),  # cuts are never limited
        (-30.0, -20.0, 6.0),  # boost capped at +6 dB
        (-30.0, None, 6.0),
        (-18.0, -2.5, 1.5),  # boost stops at the -1 dBFS ceiling
        (-18.0, -0.5, 0.0),  # already above the ceiling: no boost at all
        (-math.inf, -math.inf, 0.0),
    ],
)
def test_playback_gain(lufs: float, peak: float | None, expected: float) -> None:
    assert playback_gain_db(lufs, peak_dbfs=peak) == expected


def test_playback_gain_from_a_measurement() -> None:
    loud = Loudness(lufs=-18.0, true_peak_dbtp=-2.5, sample_peak_dbfs=-2.6)
    assert playback_gain_db(loud) == 1.5
    assert playback_gain_db(loud, peak_dbfs=-10.0) == 4.0


def test_playback_gain_targets() -> None:
    assert playback_gain_db(-20.0, target=-16.0, peak_dbfs=-12.0) == 4.0
    assert playback_gain_db(-20.0, target=-14.0, max_boost=3.0) == 3.0


# --- artwork ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", IMAGE_FORMATS)
def test_artwork_normalised_from_every_format(tmp_path: Path, fmt: str) -> None:
    src = make_image(tmp_path / "upload.bin", fmt, (800, 400))
    art = process_artwork(src, tmp_path)
    assert (art.width, art.height, art.image_mime) == (800, 400, "image/jpeg")
    with Image.open(art.image_path) as image:
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (800, 400))
        assert _close(image.getpixel((10, 10)), RED)
        assert _close(image.getpixel((790, 390)), BLUE)
    with Image.open(art.thumb_path) as thumb:
        assert (thumb.format, thumb.size) == ("WEBP", (300, 300))
        assert art.thumb_mime == "image/webp"


def test_artwork_downscales_big_images(tmp_path: Path) -> None:
    art = process_artwork(make_image(tmp_path / "big.jpg", "jpeg", (3000, 2000)), tmp_path)
    assert (art.width, art.height) == (1500, 1000)
    with Image.open(art.thumb_path) as thumb:
        assert thumb.size == (300, 300)
        # Centre crop of a red|blue image: left half red, right half blue.
        assert _close(thumb.getpixel((20, 150)), RED, 40)
        assert _close(thumb.getpixel((280, 150)), BLUE, 40)


@pytest.mark.parametrize("fmt", ["jpeg", "heic", "webp", "png"])
def test_artwork_honours_exif_orientation(tmp_path: Path, fmt: str) -> None:
    # Orientation 6: display rotated 90° clockwise, so the stored left (red) ends on top.
    src = make_image(tmp_path / "photo", fmt, (400, 200), orientation=6)
    art = process_artwork(src, tmp_path)
    assert (art.width, art.height) == (200, 400)
    with Image.open(art.image_path) as image:
        assert _close(image.getpixel((100, 20)), RED)
        assert _close(image.getpixel((100, 380)), BLUE)


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "png"])
def test_artwork_strips_gps_and_all_metadata(tmp_path: Path, fmt: str) -> None:
    src = make_image(tmp_path / "photo", fmt, (300, 300), gps=True)
    with Image.open(src) as original:
        assert original.getexif().get_ifd(0x8825)  # the upload does carry a position
    art = process_artwork(src, tmp_path)
    for path in (art.image_path, art.thumb_path):
        with Image.open(path) as image:
            assert not image.getexif()
            assert "icc_profile" not in image.info
        assert b"Exif" not in path.read_bytes()


@pytest.mark.parametrize("fmt", ["png", "webp", "gif", "heic"])
def test_artwork_flattens_transparency_on_white(tmp_path: Path, fmt: str) -> None:
    art = process_artwork(make_image(tmp_path / "logo", fmt, (200, 200), alpha=True), tmp_path)
    with Image.open(art.image_path) as image:
        assert _close(image.getpixel((190, 100)), (255, 255, 255))
        assert _close(image.getpixel((10, 100)), RED)


def test_artwork_refuses_bombs_and_impostors(tmp_path: Path) -> None:
    with pytest.raises(UnsafeImage, match="pixels"):
        process_artwork(make_png_bomb(tmp_path / "bomb.png"), tmp_path)
    # Between Pillow's warning and error thresholds: Pillow only warns, we refuse.
    with pytest.warns(Image.DecompressionBombWarning), pytest.raises(UnsafeImage):
        process_artwork(make_png_bomb(tmp_path / "b2.png", 8000, 8000), tmp_path)
    with pytest.raises(UnsupportedImage, match=f"accepted: {ACCEPTED_IMAGES}"):
        process_artwork(make_zip(tmp_path / "cover.jpg"), tmp_path)
    jpeg = make_image(tmp_path / "photo.jpg", "jpeg", (600, 600))
    with pytest.raises(CorruptFile):
        process_artwork(make_truncated(jpeg, tmp_path / "cut.jpg", 400), tmp_path)


def test_artwork_from_embedded_cover(audio_files: dict[str, Path], tmp_path: Path) -> None:
    info = probe_audio(audio_files["m4a-aac"])
    assert info.cover is not None
    art = artwork_from_bytes(info.cover, info.cover_mime, tmp_path)
    assert (art.width, art.height) == (120, 120)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [art.image_path.name, art.thumb_path.name]
    )
    with pytest.raises(UnsupportedImage, match="declared as image/bmp"):
        artwork_from_bytes(b"BM not really a bitmap", "image/bmp", tmp_path)


def _close(pixel: object, expected: tuple[int, int, int], tolerance: int = 25) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], expected, strict=True))


# --- worker processes -------------------------------------------------------------------


def roundtrip(value: object) -> object:
    return pickle.loads(pickle.dumps(value))  # noqa: S301 (our own bytes)


def test_results_and_errors_pickle(audio_files: dict[str, Path], tmp_path: Path) -> None:
    info = probe_audio(audio_files["flac"])
    assert roundtrip(info) == info
    loudness = integrated_loudness(audio_files["flac"])
    assert roundtrip(loudness) == loudness
    art = artwork_from_bytes(info.cover or b"", info.cover_mime, tmp_path)
    assert roundtrip(art) == art
    error = roundtrip(UnsupportedFormat("nope"))
    assert isinstance(error, UnsupportedFormat)
    assert str(error) == "nope"


async def test_pool_runs_media_work_in_processes(
    audio_files: dict[str, Path], tmp_path: Path
) -> None:
    pool = MediaPool(max_workers=1)
    try:
        info = await pool.run(probe_audio, audio_files["aiff"])
        assert isinstance(info, AudioInfo)
        assert info.duration == pytest.approx(2.0)
        with pytest.raises(UnsupportedFormat, match="accepted"):
            await pool.run(sniff_audio, make_text(tmp_path / "notes.mp3"))
        reports: list[float] = []
        threads: set[int] = set()

        def report(fraction: float) -> None:
            reports.append(fraction)
            threads.add(threading.get_ident())

        out = await pool.run_with_progress(
            transcode, audio_files["aiff"], tmp_path, "opus", progress=report
        )
        assert out.suffix == ".opus"
        await asyncio.sleep(0.2)  # the last reports may trail the result
        assert reports
        assert reports == sorted(reports)
        assert threads == {threading.get_ident()}  # delivered on the event loop's thread
    finally:
        pool.shutdown()
