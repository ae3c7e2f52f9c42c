"""Generate audio and image fixtures with PyAV, mutagen and Pillow (no ffmpeg CLI).

``make_audio`` writes a sine tone in any upload format plyr accepts, with tags and cover
art where the format carries them; ``make_image`` writes images (EXIF orientation, GPS,
alpha on request); the ``make_*`` corrupt helpers build the files uploads must refuse.
"""

from __future__ import annotations

import base64
import io
import struct
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import av
import numpy as np
import pillow_heif
from mutagen.aiff import AIFF
from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, TALB, TCON, TDRC, TIT2, TPE1, TPE2, TRCK
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE
from PIL import Image

pillow_heif.register_heif_opener()

# format -> (ffmpeg muxer, encoder, forced sample rate)
AUDIO_FORMATS: dict[str, tuple[str, str, int | None]] = {
    "mp3": ("mp3", "libmp3lame", None),
    "wav": ("wav", "pcm_s16le", None),
    "aiff": ("aiff", "pcm_s16be", None),
    "flac": ("flac", "flac", None),
    "ogg-vorbis": ("ogg", "vorbis", None),
    "ogg-opus": ("ogg", "libopus", 48000),
    "m4a-aac": ("ipod", "aac", None),
    "m4a-alac": ("ipod", "alac", None),
    "webm-opus": ("webm", "libopus", 48000),
}

_PCM_CODECS = {
    ("wav", "s16"): "pcm_s16le",
    ("wav", "s24"): "pcm_s24le",
    ("wav", "f32"): "pcm_f32le",
    ("aiff", "s16"): "pcm_s16be",
    ("aiff", "s24"): "pcm_s24be",
}

TAGS = {
    "title": "Test Tone",
    "artist": "The Sines",
    "album": "Waveforms",
    "album_artist": "Various Sines",
    "genre": "Electronic",
    "track_number": "3",
    "date": "2024",
}


def make_audio(
    path: Path,
    fmt: str,
    seconds: float = 2.0,
    freq: float = 440.0,
    sample_rate: int = 44100,
    channels: int = 2,
    tags: dict[str, str] | None = None,
    cover: bytes | None = None,
    *,
    amplitude: float = 0.5,
    amplitudes: Sequence[float] | None = None,
    pcm: str = "s16",
    seekable: bool = True,
) -> Path:
    """Write ``seconds`` of a sine tone in ``fmt`` (a key of AUDIO_FORMATS).

    ``amplitudes`` gives each channel its own peak amplitude (0 for silence); ``pcm``
    picks the sample format of WAV/AIFF ("s16", "s24", "f32" for WAV). With
    ``seekable=False`` the muxer writes as if to a pipe: a WebM then has no duration in its
    header, like the files browsers' MediaRecorder produces.
    """
    muxer, codec, forced_rate = AUDIO_FORMATS[fmt]
    if muxer in ("wav", "aiff"):
        codec = _PCM_CODECS[muxer, pcm]
    rate = forced_rate or sample_rate
    gains = list(amplitudes) if amplitudes is not None else [amplitude] * channels
    layout = {1: "mono", 2: "stereo", 6: "5.1"}[channels]
    total = round(seconds * rate)
    with path.open("wb") as raw, av.open(raw if seekable else _Pipe(raw), "w", format=muxer) as out:
        if muxer == "webm" and tags:
            names = {"track_number": "track"}  # ffmpeg's name, stored as PART_NUMBER
            out.metadata.update({names.get(k, k): v for k, v in tags.items()})
        stream = out.add_stream(codec, rate=rate, layout=layout)
        if codec == "vorbis":
            stream.codec_context.options = {"strict": "experimental"}
        pos = 0
        while pos < total:
            n = min(4096, total - pos)
            t = np.arange(pos, pos + n) / rate
            tone = np.sin(2 * np.pi * freq * t)
            planes = np.stack([g * tone for g in gains]).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(planes, format="fltp", layout=layout)
            frame.sample_rate = rate
            frame.pts = pos
            out.mux(stream.encode(frame))
            pos += n
        out.mux(stream.encode(None))
    if tags or cover:
        _write_tags(path, fmt, tags or {}, cover)
    return path


class _Pipe(io.RawIOBase):
    """A write-only stream ffmpeg can't seek in."""

    def __init__(self, target: BinaryIO) -> None:
        self._target = target

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data: Any) -> int:
        return self._target.write(data)


def make_vbr_mp3_without_xing(path: Path, seconds: float = 10.0) -> Path:
    """A VBR MP3 with no Xing/Info header whose first frames are silence.

    The quiet start encodes at 32 kbit/s, so any duration estimated from the first frame's
    bitrate and the file size comes out several times too long.
    """
    rate = 44100
    rng = np.random.default_rng(7)
    total = round(seconds * rate)
    quiet = total * 3 // 10
    with av.open(str(path), "w", format="mp3", options={"write_xing": "0"}) as out:
        stream = out.add_stream("libmp3lame", rate=rate, layout="stereo")
        stream.codec_context.qscale = True  # VBR
        pos = 0
        while pos < total:
            n = min(1152, total - pos)
            if pos < quiet:
                planes = np.zeros((2, n), np.float32)
            else:
                planes = (rng.standard_normal((2, n)) * 0.3).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(planes, format="fltp", layout="stereo")
            frame.sample_rate = rate
            frame.pts = pos
            out.mux(stream.encode(frame))
            pos += n
        out.mux(stream.encode(None))
    return path


def _write_tags(path: Path, fmt: str, tags: dict[str, str], cover: bytes | None) -> None:
    cover_mime = _image_mime(cover) if cover else None
    if fmt in ("mp3", "wav", "aiff"):
        audio: Any = {"mp3": MP3, "wav": WAVE, "aiff": AIFF}[fmt](path)
        if audio.tags is None:
            audio.add_tags()
        id3 = audio.tags
        frames = {
            "title": TIT2,
            "artist": TPE1,
            "album": TALB,
            "album_artist": TPE2,
            "genre": TCON,
            "track_number": TRCK,
            "date": TDRC,
        }
        for key, value in tags.items():
            id3.add(frames[key](encoding=3, text=[value]))
        if cover:
            id3.add(APIC(encoding=3, mime=cover_mime, type=3, desc="cover", data=cover))
        audio.save()
    elif fmt == "flac":
        flac = FLAC(path)
        for key, value in _vorbis_keys(tags).items():
            flac[key] = value
        if cover:
            flac.add_picture(_picture(cover, cover_mime))
        flac.save()
    elif fmt in ("ogg-vorbis", "ogg-opus"):
        ogg: Any = OggVorbis(path) if fmt == "ogg-vorbis" else OggOpus(path)
        for key, value in _vorbis_keys(tags).items():
            ogg[key] = value
        if cover:
            block = _picture(cover, cover_mime).write()
            ogg["metadata_block_picture"] = [base64.b64encode(block).decode("ascii")]
        ogg.save()
    elif fmt in ("m4a-aac", "m4a-alac"):
        mp4 = MP4(path)
        keys = {
            "title": "\xa9nam",
            "artist": "\xa9ART",
            "album": "\xa9alb",
            "album_artist": "aART",
            "genre": "\xa9gen",
            "date": "\xa9day",
        }
        for key, value in tags.items():
            if key == "track_number":
                mp4["trkn"] = [(int(value), 0)]
            else:
                mp4[keys[key]] = [value]
        if cover:
            kind = MP4Cover.FORMAT_PNG if cover_mime == "image/png" else MP4Cover.FORMAT_JPEG
            mp4["covr"] = [MP4Cover(cover, imageformat=kind)]
        mp4.save()
    # webm: the tags went in through PyAV; mutagen can't write Matroska.


def _vorbis_keys(tags: dict[str, str]) -> dict[str, str]:
    names = {"album_artist": "albumartist", "track_number": "tracknumber"}
    return {names.get(k, k): v for k, v in tags.items()}


def _picture(data: bytes, mime: str | None) -> Picture:
    picture = Picture()
    picture.type = 3
    picture.mime = mime or "image/jpeg"
    picture.desc = "cover"
    picture.data = data
    return picture


def _image_mime(data: bytes) -> str:
    return "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"


# --- images ---------------------------------------------------------------------------

_PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF", "heic": "HEIF"}


def make_image(
    path: Path,
    fmt: str,
    size: tuple[int, int] = (640, 480),
    *,
    orientation: int | None = None,
    gps: bool = False,
    alpha: bool = False,
) -> Path:
    """Write an image whose left half is red and right half blue (to check rotation).

    ``orientation`` sets the EXIF orientation tag, ``gps`` adds a GPS position to the EXIF
    data, ``alpha`` makes the right half fully transparent.
    """
    path.write_bytes(image_bytes(fmt, size, orientation=orientation, gps=gps, alpha=alpha))
    return path


def image_bytes(
    fmt: str,
    size: tuple[int, int] = (640, 480),
    *,
    orientation: int | None = None,
    gps: bool = False,
    alpha: bool = False,
) -> bytes:
    width, height = size
    image = Image.new("RGBA" if alpha else "RGB", size, (220, 20, 20))
    right = (20, 20, 220, 0) if alpha else (20, 20, 220)
    image.paste(right, (width // 2, 0, width, height))
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    options: dict[str, Any] = {}
    if len(exif):
        options["exif"] = exif.tobytes()
    if fmt == "jpeg" and alpha:
        image = image.convert("RGB")
    if fmt == "gif":
        image = image.convert("RGBA").convert("P", palette=Image.Palette.ADAPTIVE)
        if alpha:
            options["transparency"] = image.getpixel((width - 1, 0))
    buffer = io.BytesIO()
    image.save(buffer, _PILLOW_FORMATS[fmt], **options)
    return buffer.getvalue()


# --- files that must be refused -------------------------------------------------------


def make_truncated(src: Path, dst: Path, keep: int) -> Path:
    """The first ``keep`` bytes of ``src``."""
    with src.open("rb") as f:
        dst.write_bytes(f.read(keep))
    return dst


def id3_tag_size(path: Path) -> int:
    """Length of the ID3v2 tag at the start of an MP3 (0 if there is none)."""
    head = path.read_bytes()[:10]
    if head[:3] != b"ID3":
        return 0
    return 10 + ((head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9])


def make_garbage_after_header(src: Path, dst: Path, header: int, size: int = 64_000) -> Path:
    """Keep the first ``header`` bytes of ``src`` and fill the rest with random bytes."""
    rng = np.random.default_rng(1234)
    dst.write_bytes(src.read_bytes()[:header] + rng.bytes(size))
    return dst


def make_text(path: Path) -> Path:
    path.write_text("these are the liner notes, not a song\n" * 50)
    return path


def make_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("cover.jpg", b"\xff\xd8\xff not really" * 100)
    return path


def make_png_bomb(path: Path, width: int = 100_000, height: int = 100_000) -> Path:
    """A tiny PNG whose header declares ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    # One compressed row of zeros; a decoder trusting the header would allocate it all.
    data = zlib.compress(b"\x00" * (1 + width * 3), 9)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)
    path.write_bytes(png + chunk(b"IEND", b""))
    return path
