"""Detect what an upload really is from its bytes, never from its name or declared type.

Audio is recognised in two steps. The magic bytes name a candidate container (and for Ogg
the codec); then PyAV opens the file with that demuxer forced and decodes the first second,
so a file that merely starts right (an ID3 tag followed by garbage, a truncated upload) is
refused as ``CorruptFile`` rather than accepted and failing later in the job. What the
headers announce is checked first (``plyr.media.headers``): tags past ``MAX_TAG_BYTES`` are
``MetadataTooLarge``, a WAV shorter than its header says is ``CorruptFile``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import BinaryIO, Final

import av
import av.error

from plyr.media.errors import (
    ACCEPTED_AUDIO,
    ACCEPTED_IMAGES,
    CorruptFile,
    UnsupportedFormat,
    UnsupportedImage,
)
from plyr.media.headers import (
    MAX_ID3_PADDING,
    check_chunk_sizes,
    check_flac_metadata,
    id3_length,
    is_id3v2_header,
    is_mpeg_layer3_header,
)

StrPath = str | os.PathLike[str]

# ffmpeg demuxer to force for each container we accept.
DEMUXERS: Final[dict[str, str]] = {
    "mp3": "mp3",
    "wav": "wav",
    "aiff": "aiff",
    "flac": "flac",
    "ogg": "ogg",
    "mp4": "mov",
    "webm": "matroska",
    "matroska": "matroska",
}

# Codecs accepted inside each container (ffmpeg canonical names). WAV and AIFF accept any
# codec ffmpeg decodes; only plain PCM WAV counts as playable in a browser.
_CODECS: Final[dict[str, frozenset[str] | None]] = {
    "mp3": frozenset({"mp3"}),
    "wav": None,
    "aiff": None,
    "flac": frozenset({"flac"}),
    "ogg": frozenset({"vorbis", "opus"}),
    "mp4": frozenset({"aac", "alac"}),
    "webm": frozenset({"opus"}),
    "matroska": frozenset({"opus"}),
}

# PCM flavours that Chrome, Firefox and Safari all play from a WAV file.
_BROWSER_WAV_PCM: Final = frozenset({"pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_f32le"})

# Decoding this much audio (or this many packets) is enough to call a file decodable.
_CONFIRM_SECONDS: Final = 1.0
_CONFIRM_MAX_PACKETS: Final = 200

_HEAD_BYTES: Final = 4096


@dataclass(frozen=True)
class AudioFormat:
    """What an audio file is, found from its content.

    ``container`` is one of mp3, wav, aiff, flac, ogg, mp4, webm, matroska; ``codec`` a short
    family name (mp3, pcm, flac, vorbis, opus, aac, alac, or ffmpeg's name for anything
    else inside WAV/AIFF); ``codec_name`` ffmpeg's exact codec (``pcm_s24le``).
    ``extension`` (no dot) and ``mime`` are what to store and serve the original as.
    """

    container: str
    codec: str
    codec_name: str
    extension: str
    mime: str
    browser_playable: bool

    @property
    def demuxer(self) -> str:
        """The ffmpeg demuxer to open this file with (``av.open(path, format=...)``)."""
        return DEMUXERS[self.container]


@dataclass(frozen=True)
class ImageFormat:
    """What an image file is, found from its content."""

    format: str  # jpeg | png | webp | gif | heic
    mime: str
    extension: str
    pillow_format: str  # the Pillow plugin allowed to decode it


def best_audio_stream(container: av.container.InputContainer) -> av.AudioStream | None:
    """The stream ffmpeg would pick for playback, or None if there is no audio."""
    stream = container.streams.best("audio")
    return stream if isinstance(stream, av.AudioStream) else None


def sniff_audio(path: StrPath) -> AudioFormat:
    """Return the real format of an audio file, or raise.

    Raises ``UnsupportedFormat`` when the content is not an accepted format (the message
    lists them), ``CorruptFile`` when it starts like one but doesn't decode, and
    ``FileNotFoundError`` when there is no such file.
    """
    container = _audio_container(path)
    codec_name = _confirm_decodable(path, container)
    return _describe(container, codec_name)


def sniff_image(path: StrPath) -> ImageFormat:
    """Return the real format of an image file, or raise ``UnsupportedImage``."""
    with open(path, "rb") as f:
        head = f.read(64)
    if not head:
        raise UnsupportedImage(f"the image is empty; accepted: {ACCEPTED_IMAGES}")
    if head.startswith(b"\xff\xd8\xff"):
        return ImageFormat("jpeg", "image/jpeg", "jpg", "JPEG")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageFormat("png", "image/png", "png", "PNG")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return ImageFormat("gif", "image/gif", "gif", "GIF")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ImageFormat("webp", "image/webp", "webp", "WEBP")
    brands = _ftyp_brands(head)
    if brands and brands[0] in _HEIF_BRANDS:
        return ImageFormat("heic", "image/heic", "heic", "HEIF")
    raise UnsupportedImage(f"this is not an image we accept; accepted: {ACCEPTED_IMAGES}")


# HEIF/HEIC major brands (ISO/IEC 23008-12). AVIF ("avif") is deliberately not included.
_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
)


def _unsupported(detail: str) -> UnsupportedFormat:
    return UnsupportedFormat(f"{detail}; accepted: {ACCEPTED_AUDIO}")


def _audio_container(path: StrPath) -> str:
    """Name the container the magic bytes claim (the decode check confirms it)."""
    with open(path, "rb") as f:
        head = f.read(_HEAD_BYTES)
        if not head:
            raise _unsupported("the file is empty")
        after_id3 = _skip_id3(f, head)
    if after_id3 is not None:
        # A tag claims MP3 (or, rarely, FLAC). Whatever follows must decode as that.
        if after_id3.startswith(b"fLaC"):
            check_flac_metadata(path)
            return "flac"
        return "mp3"
    if head.startswith(b"fLaC"):
        check_flac_metadata(path)
        return "flac"
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        check_chunk_sizes(path, head, little_endian=True)
        return "wav"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        check_chunk_sizes(path, head, little_endian=False)
        return "aiff"
    if head.startswith(b"OggS"):
        return _ogg_container(head)
    brands = _ftyp_brands(head)
    if brands is not None:
        if brands[0] in _HEIF_BRANDS:
            raise _unsupported("this is an image, not audio")
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        doctype = _ebml_doctype(head)
        if doctype in ("webm", "matroska"):
            return doctype
        raise _unsupported("this Matroska-style file is not WebM audio")
    # Some encoders leave a few zero bytes before the first MP3 frame.
    if is_mpeg_layer3_header(head.lstrip(b"\x00")[:4]):
        return "mp3"
    raise _unsupported("this is not an audio format we accept")


def _skip_id3(f: BinaryIO, head: bytes) -> bytes | None:
    """If the file starts with ID3v2 tags, return the bytes after them; else None. Tags
    past MAX_TAG_BYTES raise ``MetadataTooLarge``."""
    if not is_id3v2_header(head):
        return None
    f.seek(id3_length(f))
    block = f.read(64)
    # Some taggers pad with zeros beyond the size they declare.
    skipped = 0
    while block and block.count(0) == len(block) and skipped < MAX_ID3_PADDING:
        skipped += len(block)
        block = f.read(64)
    stripped = block.lstrip(b"\x00")
    if len(stripped) < 4:
        stripped += f.read(64)
    return stripped


def _ogg_container(head: bytes) -> str:
    """Check the codec of the first logical stream of an Ogg file."""
    if len(head) < 27:
        raise CorruptFile("the ogg file is truncated")
    segments = head[26]
    start = 27 + segments
    packet = head[start : start + 8]
    if packet.startswith(b"\x01vorbis") or packet.startswith(b"OpusHead"):
        return "ogg"
    if len(packet) < 8:
        raise CorruptFile("the ogg file is truncated")
    if packet.startswith(b"\x7fFLAC"):
        raise _unsupported("FLAC inside ogg is not accepted (upload the .flac file)")
    raise _unsupported("this ogg file holds neither vorbis nor opus audio")


def _ftyp_brands(head: bytes) -> list[bytes] | None:
    """Major and compatible brands of an ISO-BMFF ``ftyp`` box at the start, if any."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    size = int.from_bytes(head[0:4], "big")
    end = min(max(size, 16), len(head))
    brands = [head[8:12]]
    brands.extend(head[i : i + 4] for i in range(16, end - 3, 4))
    return brands


def _ebml_doctype(head: bytes) -> str | None:
    """Read DocType from an EBML header (``webm`` or ``matroska`` for files we accept)."""
    pos = 4
    header_size, pos = _ebml_vint(head, pos, keep_marker=False)
    if header_size is None:
        return None
    end = min(len(head), pos + header_size)
    while pos < end:
        element_id, pos = _ebml_vint(head, pos, keep_marker=True)
        size, pos = _ebml_vint(head, pos, keep_marker=False)
        if element_id is None or size is None:
            return None
        if element_id == 0x4282:
            return head[pos : pos + size].rstrip(b"\x00").decode("ascii", "replace")
        pos += size
    return None


def _ebml_vint(data: bytes, pos: int, *, keep_marker: bool) -> tuple[int | None, int]:
    if pos >= len(data) or data[pos] == 0:
        return None, pos
    first = data[pos]
    length = 8 - first.bit_length() + 1
    if pos + length > len(data):
        return None, pos
    value = first if keep_marker else first & ((1 << (8 - length)) - 1)
    for b in data[pos + 1 : pos + length]:
        value = (value << 8) | b
    return value, pos + length


def _confirm_decodable(path: StrPath, container: str) -> str:
    """Open with the container's demuxer, decode the start; return ffmpeg's codec name."""
    try:
        with av.open(os.fspath(path), format=DEMUXERS[container]) as c:
            stream = best_audio_stream(c)
            if stream is None:
                if container in ("mp4", "webm", "matroska"):
                    raise _unsupported(f"the {container} file has no audio track")
                raise CorruptFile(f"the file looks like {container} but holds no audio")
            codec_name = stream.codec_context.codec.canonical_name
            allowed = _CODECS[container]
            if allowed is not None and codec_name not in allowed:
                raise _unsupported(f"{codec_name} audio in {container} is not accepted")
            needed = max(1, int(_CONFIRM_SECONDS * (stream.sample_rate or 44100)))
            decoded = 0
            for n, packet in enumerate(c.demux(stream)):
                for frame in stream.decode(packet):
                    decoded += frame.samples
                if decoded >= needed or n >= _CONFIRM_MAX_PACKETS:
                    break
    except av.error.FFmpegError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise CorruptFile(
            f"the file looks like {container} but can't be decoded; it may be truncated or damaged"
        ) from None
    if decoded == 0:
        raise CorruptFile(f"the file looks like {container} but holds no decodable audio")
    return codec_name


def _describe(container: str, codec_name: str) -> AudioFormat:
    if container == "mp3":
        return AudioFormat("mp3", "mp3", codec_name, "mp3", "audio/mpeg", True)
    if container == "wav":
        pcm = codec_name.startswith("pcm_")
        return AudioFormat(
            "wav",
            "pcm" if pcm else codec_name,
            codec_name,
            "wav",
            "audio/wav",
            codec_name in _BROWSER_WAV_PCM,
        )
    if container == "aiff":
        codec = "pcm" if codec_name.startswith("pcm_") else codec_name
        return AudioFormat("aiff", codec, codec_name, "aiff", "audio/aiff", False)
    if container == "flac":
        return AudioFormat("flac", "flac", codec_name, "flac", "audio/flac", True)
    if container == "ogg":
        if codec_name == "opus":
            return AudioFormat("ogg", "opus", codec_name, "opus", "audio/ogg", True)
        # Safari doesn't play Vorbis, so it is stored but transcoded for playback.
        return AudioFormat("ogg", "vorbis", codec_name, "ogg", "audio/ogg", False)
    if container == "mp4":
        # ALAC plays in Safari only.
        return AudioFormat("mp4", codec_name, codec_name, "m4a", "audio/mp4", codec_name == "aac")
    if container == "webm":
        return AudioFormat("webm", "opus", codec_name, "webm", "audio/webm", True)
    # Matroska proper (DocType "matroska") is not WebM; Firefox refuses it, so transcode.
    return AudioFormat("matroska", "opus", codec_name, "mka", "audio/x-matroska", False)
