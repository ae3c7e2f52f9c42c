"""Shared by the media tests: the formats to expect, and one tagged file per audio format."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from tests.support.audio import AUDIO_FORMATS, TAGS, image_bytes, make_audio

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


@pytest.fixture(scope="module", name="cover")
def cover_fixture() -> bytes:
    return image_bytes("jpeg", (120, 120))


@pytest.fixture(scope="module", name="audio_files")
def audio_files_fixture(tmp_path_factory: pytest.TempPathFactory, cover: bytes) -> dict[str, Path]:
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
