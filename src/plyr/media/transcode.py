"""Decide whether an upload needs a playable copy, and make one with PyAV.

Browsers (Chrome, Firefox, Safari) all play MP3, AAC in MP4, FLAC, Opus (Ogg and WebM)
and PCM WAV. Vorbis plays everywhere but Safari, so it is transcoded too; AIFF and ALAC
play in Safari only. WAV plays everywhere but a large one is wasteful to stream, so WAV
above ``wav_limit_bytes`` gets a compressed copy as well. The original is always kept.

Transcoding streams frame by frame (decode → resample → encode), so memory stays flat
whatever the length of the track. PyAV decodes and resamples; MP3 is encoded by the
machine's LAME when it has one (`plyr.media.lame`: three times faster than the LAME in
PyAV's wheel), else by PyAV.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, Literal, Protocol

import av
import av.error

from plyr.media.errors import CorruptFile
from plyr.media.lame import Mp3Encoder, lame_available
from plyr.media.probe import AudioInfo
from plyr.media.sniff import AudioFormat, StrPath, best_audio_stream, sniff_audio

Target = Literal["mp3", "opus"]
Progress = Callable[[float], None]

DEFAULT_WAV_LIMIT_BYTES: Final = 50 * 1024 * 1024
DEFAULT_TARGET: Final[Target] = "mp3"  # plays in every browser, old Safari included

# A few undecodable packets in a long file are skipped (as ffmpeg's CLI does); more
# than this means the file is damaged and the copy would be too.
_MAX_BAD_PACKETS: Final = 50
_PROGRESS_STEP: Final = 0.01


@dataclass(frozen=True)
class _Encoding:
    muxer: str
    codec: str
    extension: str
    bit_rate: int
    sample_format: str


_ENCODINGS: Final[dict[str, _Encoding]] = {
    # libmp3lame is constant bit rate when given a bit rate (no VBR quality set); so is
    # `Mp3Encoder`.
    "mp3": _Encoding("mp3", "libmp3lame", "mp3", 320_000, "fltp"),
    "opus": _Encoding("ogg", "libopus", "opus", 160_000, "flt"),
}


def transcode_reason(
    info: AudioInfo,
    fmt: AudioFormat,
    size_bytes: int,
    wav_limit_bytes: int = DEFAULT_WAV_LIMIT_BYTES,
) -> str | None:
    """Why the original can't be served to browsers as is, or None when it can."""
    if fmt.container == "wav":
        if not fmt.browser_playable:
            return f"{fmt.codec_name} in wav doesn't play in browsers"
        if size_bytes > wav_limit_bytes:
            return f"wav larger than {wav_limit_bytes // (1024 * 1024)} MB"
        return None
    if fmt.codec == "vorbis":
        return "vorbis doesn't play in Safari"
    if fmt.container == "aiff":
        return "aiff plays in Safari only"
    if fmt.codec == "alac":
        return "alac plays in Safari only"
    if not fmt.browser_playable:
        return f"{fmt.codec} in {fmt.container} doesn't play in every browser"
    if info.channels > 8:
        return f"{info.channels} channels is more than browsers decode"
    return None


def needs_transcode(
    info: AudioInfo,
    fmt: AudioFormat,
    size_bytes: int,
    wav_limit_bytes: int = DEFAULT_WAV_LIMIT_BYTES,
) -> bool:
    """True when plyr should store a playable copy next to the original."""
    return transcode_reason(info, fmt, size_bytes, wav_limit_bytes) is not None


def output_sample_rate(source_rate: int, target: Target) -> int:
    """Opus is always 48 kHz; MP3 keeps 44.1/48 kHz and moves anything else to the nearer
    family (88.2 → 44.1, 96 → 48, 22.05 → 44.1, 32 → 48)."""
    if target == "opus":
        return 48_000
    if source_rate in (44_100, 48_000):
        return source_rate
    return 44_100 if source_rate % 11_025 == 0 else 48_000


def transcode(
    src: StrPath,
    dst_dir: StrPath,
    target: Target = DEFAULT_TARGET,
    progress: Progress | None = None,
    *,
    fmt: AudioFormat | None = None,
) -> Path:
    """Write a browser-playable copy of ``src`` into ``dst_dir`` and return its path.

    ``target`` "mp3" is MP3 320 kbit/s CBR at 44.1 or 48 kHz; "opus" is Opus 160 kbit/s
    in Ogg at 48 kHz. Mono stays mono; more than two channels are downmixed to stereo.
    ``progress`` is called with the fraction done (0..1, by decoded time) in steps of
    about 1 %, and with 1.0 at the end. The file appears under its final name only when
    complete. Raises ``CorruptFile`` if the source can't be decoded.
    """
    encoding = _ENCODINGS[target]
    if fmt is None:
        fmt = sniff_audio(src)
    src_path = Path(src)
    dst = Path(dst_dir) / f"{src_path.stem}.{encoding.extension}"
    if dst.resolve() == src_path.resolve():
        dst = dst.with_name(f"{src_path.stem}.transcoded.{encoding.extension}")
    partial = dst.with_name(f".{dst.name}.part")
    try:
        _transcode(src_path, partial, fmt, encoding, target, progress)
        os.replace(partial, dst)
    except av.error.FFmpegError:
        partial.unlink(missing_ok=True)
        raise CorruptFile("the audio can't be decoded; it may be truncated or damaged") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if progress is not None:
        progress(1.0)
    return dst


def _transcode(
    src: Path,
    dst: Path,
    fmt: AudioFormat,
    encoding: _Encoding,
    target: Target,
    progress: Progress | None,
) -> None:
    with av.open(os.fspath(src), format=fmt.demuxer) as source:
        stream = best_audio_stream(source)
        if stream is None:
            raise CorruptFile("the file holds no audio")
        in_rate = stream.sample_rate
        total = _duration(source, stream)
        layout = "mono" if stream.channels == 1 else "stereo"
        rate = output_sample_rate(in_rate, target)
        with _output(dst, encoding, rate, layout) as out:
            resampler = av.AudioResampler(format=encoding.sample_format, layout=layout, rate=rate)
            decoded = 0
            bad_packets = 0
            reported = 0.0
            for packet in source.demux(stream):
                try:
                    frames = stream.decode(packet)
                except av.error.InvalidDataError:
                    bad_packets += 1
                    if bad_packets > _MAX_BAD_PACKETS:
                        raise
                    continue
                for frame in frames:
                    decoded += frame.samples
                    # Timestamps of a damaged file can jump; the resampler only needs
                    # a steady count.
                    frame.pts = None
                    out.write(resampler.resample(frame))
                if progress is not None and total:
                    done = min(decoded / in_rate / total, 0.999)
                    if done - reported >= _PROGRESS_STEP:
                        reported = done
                        progress(done)
            if decoded == 0:
                raise CorruptFile("the file holds no decodable audio")
            out.write(resampler.resample(None))
            out.finish()


class _Output(Protocol):
    def write(self, frames: list[av.AudioFrame]) -> None: ...
    def finish(self) -> None: ...


@contextmanager
def _output(dst: Path, encoding: _Encoding, rate: int, layout: str) -> Iterator[_Output]:
    """Where resampled frames go: the machine's LAME for MP3 when it has one (three times
    PyAV's own, `plyr.media.lame`), else PyAV's encoder and muxer."""
    if encoding.codec == "libmp3lame" and lame_available():
        with (
            open(dst, "wb") as file,
            Mp3Encoder(
                rate, 1 if layout == "mono" else 2, encoding.bit_rate // 1000, info_tag=True
            ) as encoder,
        ):
            yield _LameFile(file, encoder)
        return
    with av.open(os.fspath(dst), "w", format=encoding.muxer) as container:
        encoder_stream = container.add_stream(encoding.codec, rate=rate, layout=layout)
        if not isinstance(encoder_stream, av.AudioStream):
            raise TypeError(f"{encoding.codec} is not an audio encoder")
        encoder_stream.bit_rate = encoding.bit_rate
        yield _Muxed(container, encoder_stream)


class _Muxed:
    def __init__(self, container: av.container.OutputContainer, stream: av.AudioStream) -> None:
        self._container, self._stream, self._written = container, stream, 0

    def write(self, frames: list[av.AudioFrame]) -> None:
        for frame in frames:
            frame.pts = self._written
            self._written += frame.samples
            self._container.mux(self._stream.encode(frame))

    def finish(self) -> None:
        self._container.mux(self._stream.encode(None))


class _LameFile:
    def __init__(self, file: BinaryIO, encoder: Mp3Encoder) -> None:
        self._file, self._encoder = file, encoder

    def write(self, frames: list[av.AudioFrame]) -> None:
        for frame in frames:
            self._file.write(self._encoder.encode(frame))

    def finish(self) -> None:
        self._file.write(self._encoder.flush())
        # LAME kept the first frame free for its Info tag (length and gapless padding).
        self._file.seek(0)
        self._file.write(self._encoder.info_tag_frame())


def _duration(container: av.container.InputContainer, stream: av.AudioStream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None
