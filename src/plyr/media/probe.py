"""Duration, stream facts, tags and embedded cover art of an audio file.

Stream facts come from PyAV; tags and cover art from mutagen (read with the class for the
sniffed format, never guessed from the file name), with ffmpeg's metadata as a fallback for
containers mutagen doesn't read (WebM). Headers can lie about duration (a VBR MP3 without a
Xing header, a WebM from MediaRecorder without one), so MP3 is always checked by counting
packets and any file without a usable header duration is measured the same way. A file
holding less audio than its header counted (an MP3's Xing frame count, FLAC's STREAMINFO)
is a cut-off upload and refused as ``CorruptFile``; a PCM file whose header claims more than
its bytes can hold (a streaming writer's unknown-length marker) is measured instead.
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Final

import av
import av.error
from mutagen import MutagenError
from mutagen.aiff import AIFF
from mutagen.flac import FLAC, Picture
from mutagen.id3 import ID3
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from plyr.media.errors import CorruptFile
from plyr.media.headers import mp3_declared_seconds
from plyr.media.sniff import AudioFormat, StrPath, best_audio_stream, sniff_audio

log = logging.getLogger(__name__)

MAX_TAG_CHARS: Final = 500
# Covers up to this size are kept (the same cap as artwork); callers hold embedded
# pictures to their own upload limit with AudioInfo.largest_picture_bytes.
MAX_COVER_BYTES: Final = 32 * 1024 * 1024

# When the header's duration and the counted packets agree this closely, the header wins:
# it accounts for encoder delay and padding (gapless info), packet counting can't.
_HEADER_TOLERANCE_SECONDS: Final = 0.1
# A file holding this much less than its header counted was cut off (encoder delay and
# padding account for a few frames, a tenth of a second at most).
_TRUNCATED_SECONDS: Final = 0.25
_TRUNCATED_FRACTION: Final = 0.02


@dataclass(frozen=True)
class AudioInfo:
    """What plyr needs to know about an uploaded track. Text fields are None when absent."""

    format: AudioFormat
    duration: float  # seconds
    duration_seconds: int  # rounded, for display and the record
    codec: str  # the codec family, as in AudioFormat.codec
    sample_rate: int
    channels: int
    bit_rate: int | None  # bits per second, averaged over the file where it varies
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    album_artist: str | None = None
    genre: str | None = None
    track_number: int | None = None
    date: str | None = None
    cover: bytes | None = field(default=None, repr=False)
    cover_mime: str | None = None  # as declared by the tag; sniff before trusting it
    # The largest picture in the tags, in bytes, also when it was too large to keep.
    largest_picture_bytes: int = 0


@dataclass
class _Tags:
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    album_artist: str | None = None
    genre: str | None = None
    track_number: int | None = None
    date: str | None = None
    cover: bytes | None = None
    cover_mime: str | None = None
    largest_picture_bytes: int = 0
    length: float | None = None  # mutagen's idea of the duration


def probe_audio(path: StrPath, fmt: AudioFormat | None = None) -> AudioInfo:
    """Probe an audio file. Pass ``fmt`` from ``sniff_audio`` to skip sniffing again."""
    if fmt is None:
        fmt = sniff_audio(path)
    tags = _read_tags(path, fmt)
    counted_by_header = _counted_by_header(path, fmt, tags)
    try:
        with av.open(os.fspath(path), format=fmt.demuxer) as container:
            stream = best_audio_stream(container)
            if stream is None:
                raise CorruptFile("the file holds no audio")
            sample_rate = stream.sample_rate
            channels = stream.channels
            # ffmpeg reads the gapless info of its own and LAME's Xing headers, mutagen
            # only LAME's, so for MP3 ffmpeg's figure is the one to check.
            header = _ffmpeg_duration(container, stream)
            if tags.length and fmt.container != "mp3":
                header = tags.length
            bit_rate: int | None = stream.bit_rate or container.bit_rate or None
            duration = header
            if _beyond_pcm_bytes(path, fmt, header, bit_rate):
                header = None  # an unknown-length marker read as a size: measure instead
            if fmt.container == "mp3" or not header or counted_by_header:
                counted, payload, longest_packet = _count_packets(container, stream)
                _check_not_cut_off(counted_by_header, counted)
                # Encoder delay and padding add up to about two frames.
                tolerance = max(_HEADER_TOLERANCE_SECONDS, 3 * longest_packet)
                duration = header if header and abs(header - counted) <= tolerance else counted
                if fmt.container == "mp3" and counted:
                    bit_rate = round(payload * 8 / counted)
            _merge_ffmpeg_metadata(tags, {**container.metadata, **stream.metadata})
    except av.error.FFmpegError:
        raise CorruptFile("the audio can't be read; it may be truncated or damaged") from None
    if not duration or duration <= 0:
        raise CorruptFile("the audio has no length")
    return AudioInfo(
        format=fmt,
        duration=duration,
        duration_seconds=math.floor(duration + 0.5),
        codec=fmt.codec,
        sample_rate=sample_rate,
        channels=channels,
        bit_rate=bit_rate,
        title=tags.title,
        artist=tags.artist,
        album=tags.album,
        album_artist=tags.album_artist,
        genre=tags.genre,
        track_number=tags.track_number,
        date=tags.date,
        cover=tags.cover,
        cover_mime=tags.cover_mime,
        largest_picture_bytes=tags.largest_picture_bytes,
    )


def _counted_by_header(path: StrPath, fmt: AudioFormat, tags: _Tags) -> float | None:
    """The length a header counted exactly (not estimated from a bitrate), if any."""
    if fmt.container == "mp3":
        return mp3_declared_seconds(path)
    if fmt.container == "flac":
        return tags.length  # STREAMINFO's total samples (None when the encoder left it 0)
    return None


def _check_not_cut_off(declared: float | None, counted: float) -> None:
    if declared and declared - counted > max(_TRUNCATED_SECONDS, declared * _TRUNCATED_FRACTION):
        raise CorruptFile(
            f"the file is truncated (its header announces {declared:.1f} s of audio, "
            f"it holds {counted:.1f} s)"
        )


def _beyond_pcm_bytes(
    path: StrPath, fmt: AudioFormat, header: float | None, bit_rate: int | None
) -> bool:
    """True when a PCM header duration needs more bytes than the file has."""
    if not header or not bit_rate or fmt.codec != "pcm":
        return False
    return header > os.path.getsize(path) * 8 / bit_rate + _HEADER_TOLERANCE_SECONDS


def _ffmpeg_duration(
    container: av.container.InputContainer, stream: av.AudioStream
) -> float | None:
    time_base: Fraction | None = stream.time_base
    if stream.duration and time_base:
        return float(stream.duration * time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _count_packets(
    container: av.container.InputContainer, stream: av.AudioStream
) -> tuple[float, int, float]:
    """From packet timestamps (no decoding): duration, audio payload in bytes, and the
    longest packet's duration."""
    start: int | None = None
    end = 0
    payload = 0
    samples = 0
    longest = 0
    for packet in container.demux(stream):
        if packet.size == 0:
            continue  # the flush packet at the end
        payload += packet.size
        longest = max(longest, packet.duration or 0)
        if packet.pts is not None:
            start = packet.pts if start is None else min(start, packet.pts)
            end = max(end, packet.pts + (packet.duration or 0))
        elif packet.duration:
            samples += packet.duration
    time_base: Fraction = stream.time_base or Fraction(1, stream.sample_rate or 1)
    ticks = end - start if start is not None else samples
    return float(ticks * time_base), payload, float(longest * time_base)


# --- tags -----------------------------------------------------------------------------


def _read_tags(path: StrPath, fmt: AudioFormat) -> _Tags:
    tags = _Tags()
    try:
        _read_mutagen(os.fspath(path), fmt, tags)
    except (MutagenError, ValueError, KeyError, IndexError, OSError, EOFError) as exc:
        # Tags are a convenience; a file with broken tags still plays.
        log.info("unreadable tags in %s: %s", path, exc)
    return tags


# mutagen's classes for each sniffed format (mutagen's own guess weighs the file name).
_Loader = Callable[[str], Any]
_ID3_LOADERS: Final[dict[str, _Loader]] = {"mp3": MP3, "wav": WAVE, "aiff": AIFF}
_FLAC: Final[_Loader] = FLAC
_OGG_LOADERS: Final[dict[str, _Loader]] = {"opus": OggOpus, "vorbis": OggVorbis}
_MP4: Final[_Loader] = MP4
_PICTURE: Final[Callable[[bytes], Any]] = Picture


def _read_mutagen(path: str, fmt: AudioFormat, tags: _Tags) -> None:
    audio: Any
    if fmt.container in _ID3_LOADERS:
        audio = _ID3_LOADERS[fmt.container](path)
        if isinstance(audio.tags, ID3):
            _from_id3(audio.tags, tags)
    elif fmt.container == "flac":
        audio = _FLAC(path)
        if audio.tags is not None:
            _from_vorbis_comments(audio.tags, tags)
        _pick_picture(audio.pictures, tags)
    elif fmt.container == "ogg" and fmt.codec in _OGG_LOADERS:
        audio = _OGG_LOADERS[fmt.codec](path)
        if audio.tags is not None:
            _from_vorbis_comments(audio.tags, tags)
            _from_ogg_pictures(audio.tags, tags)
    elif fmt.container == "mp4":
        audio = _MP4(path)
        if audio.tags is not None:
            _from_mp4(audio.tags, tags)
    else:
        return
    tags.length = audio.info.length or None


def _clean(value: object) -> str | None:
    if isinstance(value, list | tuple):
        parts = [p for p in (_clean(v) for v in value) if p]
        # Several values (two artists) read best joined.
        return _clean(", ".join(dict.fromkeys(parts))) if parts else None
    text = str(value).replace("\x00", " ").strip()
    return text[:MAX_TAG_CHARS] or None


def _track_number(value: object) -> int | None:
    text = _clean(value)
    if not text:
        return None
    head = text.split("/")[0].strip()
    return int(head) if head.isdigit() and 0 < int(head) < 10_000 else None


def _from_id3(id3: Any, tags: _Tags) -> None:
    def text(frame_id: str) -> str | None:
        frames = id3.getall(frame_id)
        return _clean([str(t) for f in frames for t in f.text]) if frames else None

    tags.title = text("TIT2")
    tags.artist = text("TPE1")
    tags.album = text("TALB")
    tags.album_artist = text("TPE2")
    tags.genre = text("TCON")
    tags.track_number = _track_number(text("TRCK"))
    tags.date = text("TDRC")
    _pick_picture(id3.getall("APIC"), tags)


def _from_vorbis_comments(comments: Any, tags: _Tags) -> None:
    def get(key: str) -> str | None:
        return _clean(comments.get(key)) if key in comments else None

    tags.title = get("title")
    tags.artist = get("artist")
    tags.album = get("album")
    tags.album_artist = get("albumartist") or get("album artist")
    tags.genre = get("genre")
    tags.track_number = _track_number(get("tracknumber"))
    tags.date = get("date") or get("year")


def _from_ogg_pictures(comments: Any, tags: _Tags) -> None:
    pictures: list[Any] = []
    for encoded in comments.get("metadata_block_picture", []):
        try:
            pictures.append(_PICTURE(base64.b64decode(encoded)))
        except (binascii.Error, MutagenError, ValueError):
            continue
    if pictures:
        _pick_picture(pictures, tags)
        return
    # The older, unofficial way: raw base64 image data with its mime type beside it.
    for encoded in comments.get("coverart", []):
        try:
            data = base64.b64decode(encoded)
        except (binascii.Error, ValueError):
            continue
        mime = _clean(comments.get("coverartmime")) or "image/jpeg"
        if _set_cover(tags, data, mime):
            return


def _pick_picture(pictures: list[Any], tags: _Tags) -> None:
    _note_sizes(tags, [picture.data for picture in pictures])
    # Type 3 is the front cover; otherwise take the first picture that decodes.
    for picture in sorted(pictures, key=lambda p: 0 if p.type == 3 else 1):
        if _set_cover(tags, picture.data, picture.mime):
            return


def _from_mp4(mp4_tags: Any, tags: _Tags) -> None:
    def get(key: str) -> str | None:
        return _clean(mp4_tags.get(key)) if key in mp4_tags else None

    tags.title = get("\xa9nam")
    tags.artist = get("\xa9ART")
    tags.album = get("\xa9alb")
    tags.album_artist = get("aART")
    tags.genre = get("\xa9gen")
    tags.date = get("\xa9day")
    track = mp4_tags.get("trkn")
    if track and isinstance(track[0], tuple) and track[0][0]:
        tags.track_number = int(track[0][0])
    _note_sizes(tags, mp4_tags.get("covr", []))
    for cover in mp4_tags.get("covr", []):
        mime = "image/png" if cover.imageformat == MP4Cover.FORMAT_PNG else "image/jpeg"
        if _set_cover(tags, bytes(cover), mime):
            return


def _note_sizes(tags: _Tags, pictures: list[bytes]) -> None:
    for data in pictures:
        tags.largest_picture_bytes = max(tags.largest_picture_bytes, len(data or b""))


def _set_cover(tags: _Tags, data: bytes, mime: str | None) -> bool:
    tags.largest_picture_bytes = max(tags.largest_picture_bytes, len(data or b""))
    if not data or len(data) > MAX_COVER_BYTES:
        return False
    tags.cover = bytes(data)
    declared = (mime or "").strip().lower()
    # ID3v2.2 and sloppy taggers write "jpg"/"png" instead of a mime type.
    if declared and "/" not in declared:
        declared = f"image/{'jpeg' if declared in ('jpg', 'jpeg') else declared}"
    tags.cover_mime = declared or None
    return True


_FFMPEG_KEYS: Final = {
    "title": "title",
    "artist": "artist",
    "album": "album",
    "album_artist": "album_artist",
    "albumartist": "album_artist",
    "genre": "genre",
    "date": "date",
}


def _merge_ffmpeg_metadata(tags: _Tags, metadata: dict[str, str]) -> None:
    """Fill fields mutagen left empty from ffmpeg's view of the tags."""
    for key, value in metadata.items():
        lowered = key.lower()
        name = _FFMPEG_KEYS.get(lowered)
        if name and getattr(tags, name) is None:
            setattr(tags, name, _clean(value))
        elif lowered in ("track", "tracknumber", "track_number") and tags.track_number is None:
            tags.track_number = _track_number(value)
