"""Transcoding while someone listens: decode a stored file, encode it in another format or
at a lower bit rate, and hand the encoded bytes out as they are made (`encode_stream`), for
a player that asks for mp3 at 128 kbit/s now rather than a file later.

Unlike `transcode` (a copy made once at upload, written to disk) nothing is stored: the
output goes front to back through `emit`, so every container here is one a muxer can write
without seeking back to patch a header (MP3, Ogg, ADTS, fragmented MP4). It runs in the
calling thread, frame by frame, so memory stays flat whatever the length; `stopped` is
asked before every packet and `emit` may raise to end it (the listener left). MP3 is
encoded by the machine's LAME when it has one (`plyr.media.lame`), as frames with no
container around them, else by PyAV's encoder through its muxer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Final, Protocol

import av
import av.error

from plyr.media.errors import CorruptFile
from plyr.media.lame import Mp3Encoder, lame_available
from plyr.media.sniff import StrPath, best_audio_stream
from plyr.media.transcode import output_sample_rate

Emit = Callable[[bytes], None]

# The bit rates an MPEG-1 layer III frame can say; lame rounds any other up, which would
# break a ceiling, so a wish is rounded down to one of these first.
MP3_KBPS: Final = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
EMIT_BYTES: Final = 16 * 1024  # the muxer's writes are gathered to about this much
# The first chunk goes out as soon as it holds some audio past the headers: a player
# waits for it. So the muxer writes through in small pieces (its own buffer is 32 KiB).
FIRST_EMIT_BYTES: Final = 4 * 1024
MUXER_BUFFER: Final = 4 * 1024
_MAX_BAD_PACKETS: Final = 50  # as `transcode`: a few bad packets are skipped, more fail


@dataclass(frozen=True)
class LiveFormat:
    """An output a listener can get: what players call it, how it is written."""

    name: str
    muxer: str
    codec: str
    content_type: str
    sample_format: str
    min_kbps: int
    max_kbps: int  # more than this is not worth sending
    options: dict[str, str] = field(default_factory=dict)  # the muxer's
    codec_options: dict[str, str] = field(default_factory=dict)
    # What the container's headers add (Ogg pages, ADTS headers, fragments), kept out of
    # the codec's rate so the bytes sent stay within the rate asked for.
    headroom: float = 0.0

    def kbps(self, wanted: int) -> int:
        """The bit rate to encode at for a wish of `wanted` kbit/s: within the codec's
        range, and for MP3 a rate a frame can carry, never above the wish (but for the
        codec's floor)."""
        kbps = max(self.min_kbps, min(wanted, self.max_kbps))
        if self.codec == "libmp3lame":
            kbps = max(rate for rate in MP3_KBPS if rate <= kbps)
        return kbps


LIVE_FORMATS: Final[dict[str, LiveFormat]] = {
    # libmp3lame given a bit rate is constant bit rate: exactly what was asked.
    "mp3": LiveFormat("mp3", "mp3", "libmp3lame", "audio/mpeg", "fltp", 32, 320),
    # Opus is variable by default (a quiet passage costs less, a busy one more than asked);
    # constrained keeps it within a few per cent of the rate over any second.
    "opus": LiveFormat(
        "opus",
        "ogg",
        "libopus",
        "audio/ogg",
        "flt",
        16,
        256,
        codec_options={"vbr": "constrained"},
        headroom=0.03,
    ),
    # ADTS: raw AAC frames, each with its header, playable from any byte on.
    "aac": LiveFormat("aac", "adts", "aac", "audio/aac", "fltp", 32, 320, headroom=0.03),
    # MP4 written as fragments of about a second behind an empty `moov`: a plain MP4 needs
    # its index, written last, at the front.
    "m4a": LiveFormat(
        "m4a",
        "mp4",
        "aac",
        "audio/mp4",
        "fltp",
        32,
        320,
        {"movflags": "empty_moov+default_base_moof", "frag_duration": "1000000"},
        headroom=0.03,
    ),
}


class _Sink:
    """The muxer's output (write-only, not seekable), gathered into chunks for `emit`.

    PyAV turns an exception raised in a write into an FFmpeg error on some paths; the sink
    keeps the first one, so `encode_stream` can raise it as it was (`emit` saying stop is
    not a damaged file), and refuses every write after it."""

    def __init__(self, emit: Emit) -> None:
        self._emit = emit
        self._buffer = bytearray()
        self._enough = FIRST_EMIT_BYTES
        self.error: BaseException | None = None

    def write(self, data: bytes) -> int:
        if self.error is not None:
            raise self.error
        self._buffer += data
        if len(self._buffer) >= self._enough:
            self._enough = EMIT_BYTES
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            chunk, self._buffer = bytes(self._buffer), bytearray()
            try:
                self._emit(chunk)
            except BaseException as exc:
                self.error = exc
                raise


def audio_seconds(source: StrPath | object) -> float | None:
    """The exact length of the audio in `source` as its container says it (not the whole
    seconds a track keeps), or None when it does not say or cannot be read."""
    opened = os.fspath(source) if isinstance(source, str | os.PathLike) else source
    found: list[float] = []
    try:
        with av.open(opened, "r") as container:
            stream = best_audio_stream(container)
            if stream is not None and stream.duration and stream.time_base:
                found.append(float(stream.duration * stream.time_base))
            if container.duration:
                found.append(container.duration / av.time_base)
    except av.error.FFmpegError:
        return None
    return max(found, default=None)  # the longer: an estimate may pad, never cut


def encode_stream(
    source: StrPath | object,
    target: LiveFormat,
    kbps: int,
    emit: Emit,
    *,
    offset: float = 0.0,
    stopped: Callable[[], bool] = lambda: False,
) -> None:
    """Encode the audio of `source` (a path, or a binary file object with read and seek)
    as `target` at `kbps` kbit/s (`target.kbps` chooses it), from `offset` seconds on,
    giving the bytes to `emit` in chunks of about `EMIT_BYTES`.

    Returns early, emitting nothing more, once `stopped()` is true. Mono stays mono, more
    channels become stereo; Opus is 48 kHz, the others keep 44.1 or 48 kHz (see
    `output_sample_rate`). The start is exact to a frame of the source (20-100 ms).
    Raises `CorruptFile` when the source cannot be decoded.
    """
    opened = os.fspath(source) if isinstance(source, str | os.PathLike) else source
    sink = _Sink(emit)
    try:
        with av.open(opened, "r") as container:
            _encode(container, target, kbps, sink, offset, stopped)
        if not stopped():
            sink.flush()
    except av.error.FFmpegError:
        if sink.error is not None:
            raise sink.error from None
        raise CorruptFile("the audio can't be decoded; it may be truncated or damaged") from None
    except BaseException:
        if sink.error is not None:
            raise sink.error from None
        raise


def _encode(
    source: av.container.InputContainer,
    target: LiveFormat,
    kbps: int,
    sink: _Sink,
    offset: float,
    stopped: Callable[[], bool],
) -> None:
    stream = best_audio_stream(source)
    if stream is None:
        raise CorruptFile("the file holds no audio")
    layout = "mono" if stream.channels == 1 else "stereo"
    rate = output_sample_rate(stream.sample_rate, "opus" if target.codec == "libopus" else "mp3")
    if offset > 0:
        # To the last seek point at or before it; frames ending before it are dropped.
        source.seek(int(offset * av.time_base), backward=True)
    with _output(sink, target, kbps, rate, layout) as out:
        resampler = av.AudioResampler(format=target.sample_format, layout=layout, rate=rate)
        bad_packets = 0
        for packet in source.demux(stream):
            if stopped():
                return
            try:
                frames = stream.decode(packet)
            except av.error.InvalidDataError:
                bad_packets += 1
                if bad_packets > _MAX_BAD_PACKETS:
                    raise
                continue
            for frame in frames:
                start = frame.time
                ends = None if start is None else start + frame.samples / frame.sample_rate
                if offset > 0 and ends is not None and ends <= offset:
                    continue
                frame.pts = None  # the resampler needs a steady count, not the source's times
                out.write(resampler.resample(frame))
        if stopped():
            return
        out.write(resampler.resample(None))
        out.finish()


class _Output(Protocol):
    def write(self, frames: list[av.AudioFrame]) -> None: ...
    def finish(self) -> None: ...


@contextmanager
def _output(
    sink: _Sink, target: LiveFormat, kbps: int, rate: int, layout: str
) -> Iterator[_Output]:
    """The encoder frames go to: the machine's LAME for MP3 when it has one (a third of
    the CPU of PyAV's, `plyr.media.lame`), else PyAV's encoder and the target's muxer."""
    if target.codec == "libmp3lame" and lame_available():
        channels = 1 if layout == "mono" else 2
        with Mp3Encoder(rate, channels, kbps, info_tag=False) as encoder:
            yield _LameOut(sink, encoder)
        return
    with av.open(
        sink, "w", format=target.muxer, options=target.options, buffer_size=MUXER_BUFFER
    ) as container:
        encoder_stream = container.add_stream(
            target.codec, rate=rate, layout=layout, options=target.codec_options
        )
        if not isinstance(encoder_stream, av.AudioStream):
            raise TypeError(f"{target.codec} is not an audio encoder")
        encoder_stream.bit_rate = int(kbps * 1000 * (1 - target.headroom))
        yield _Muxed(container, encoder_stream, rate)


class _Muxed:
    def __init__(
        self, container: av.container.OutputContainer, stream: av.AudioStream, rate: int
    ) -> None:
        self._container, self._stream = container, stream
        self._written, self._sample_time = 0, Fraction(1, rate)

    def write(self, frames: list[av.AudioFrame]) -> None:
        for frame in frames:
            # A resampler with nothing to change hands the source's frame back, in the
            # source's time base: the count is in samples, so say so.
            frame.pts, frame.time_base = self._written, self._sample_time
            self._written += frame.samples
            self._container.mux(self._stream.encode(frame))

    def finish(self) -> None:
        self._container.mux(self._stream.encode(None))


class _LameOut:
    def __init__(self, sink: _Sink, encoder: Mp3Encoder) -> None:
        self._sink, self._encoder = sink, encoder

    def write(self, frames: list[av.AudioFrame]) -> None:
        for frame in frames:
            self._sink.write(self._encoder.encode(frame))

    def finish(self) -> None:
        self._sink.write(self._encoder.flush())
