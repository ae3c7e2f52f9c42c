"""MP3 from the machine's LAME (`plyr.media.lame`) and from PyAV's encoder, where the
library is missing: the same file for an upload's copy and the same stream for a player."""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest

from plyr.media import lame, probe_audio, sniff_audio, transcode
from plyr.media.streaming import LIVE_FORMATS, encode_stream
from tests.support.audio import make_audio

ENCODERS = ["system lame", "pyav"]


@pytest.fixture(params=ENCODERS)
def encoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "pyav":
        monkeypatch.setattr(lame, "library", lambda: None)
    elif not lame.lame_available():
        pytest.skip("no libmp3lame on this machine (Debian: libmp3lame0)")
    return str(request.param)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("lame")
    return {
        "stereo": make_audio(folder / "stereo.aiff", "aiff", seconds=3.0),
        "mono": make_audio(folder / "mono.wav", "wav", seconds=2.0, channels=1, sample_rate=48000),
    }


def _samples(data: bytes | Path) -> tuple[int, int, int]:
    """(samples decoded, channels, rate): a decoder honouring the gapless tag trims the
    encoder's delay and padding, so an exact copy has the source's count."""
    opened = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    with av.open(opened) as container:
        stream = container.streams.audio[0]
        count = sum(frame.samples for frame in container.decode(stream))
        return count, stream.channels, stream.sample_rate


def test_the_upload_copy_is_the_same_mp3_with_either_encoder(
    encoder: str, sources: dict[str, Path], tmp_path: Path
) -> None:
    for name, seconds, channels, rate in (("stereo", 3.0, 2, 44100), ("mono", 2.0, 1, 48000)):
        out = transcode(sources[name], tmp_path, "mp3")
        fmt, info = sniff_audio(out), probe_audio(out)
        assert (fmt.container, fmt.codec, fmt.mime) == ("mp3", "mp3", "audio/mpeg")
        assert (info.channels, info.sample_rate) == (channels, rate)
        assert info.bit_rate == pytest.approx(320_000, rel=0.02)
        # Exactly the source's samples: the Info/LAME tag carries delay and padding.
        assert _samples(out) == (int(seconds * rate), channels, rate)
        assert out.stat().st_size == pytest.approx(seconds * 40_000, rel=0.05)


def test_the_system_encoder_writes_an_info_tag_first(
    sources: dict[str, Path], tmp_path: Path
) -> None:
    if not lame.lame_available():
        pytest.skip("no libmp3lame on this machine (Debian: libmp3lame0)")
    out = transcode(sources["stereo"], tmp_path, "mp3")
    head = out.read_bytes()[:200]
    assert head[:2] == b"\xff\xfb"  # an MPEG-1 layer III frame, nothing before it
    assert b"Info" in head  # the CBR form of the Xing tag
    assert b"LAME" in head  # its delay and padding


def test_a_live_mp3_is_the_same_with_either_encoder(encoder: str, sources: dict[str, Path]) -> None:
    chunks: list[bytes] = []
    encode_stream(sources["stereo"], LIVE_FORMATS["mp3"], 128, chunks.append, offset=1.0)
    data = b"".join(chunks)
    count, channels, rate = _samples(data)
    assert (channels, rate) == (2, 44100)
    assert abs(count / rate - 2.0) < 0.1  # no tag on a stream: delay and padding stay
    assert len(data) * 8 / (count / rate) <= 128_000 * 1.01
    assert len(chunks) > 1


def test_the_encoder_refuses_what_lame_cannot_do() -> None:
    if not lame.lame_available():
        pytest.skip("no libmp3lame on this machine (Debian: libmp3lame0)")
    with pytest.raises(lame.LameError):
        lame.Mp3Encoder(44100, 6, 320, info_tag=False)
