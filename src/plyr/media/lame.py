"""MP3 encoding with the machine's LAME (Debian's ``libmp3lame0``) through ctypes.

Why not PyAV's ``libmp3lame`` encoder: the LAME 3.100 inside PyAV's wheel encodes about
3.4 times slower than Debian's build of the same LAME at the same settings (identical bytes
out; `bench/transcode.py` and bench/README.md), which made an upload's MP3 take three times
what the ``ffmpeg`` command needs. PyAV still decodes and resamples (a few per cent of the
work); only the encoding moves here. Where the library is missing, `lame_available()` is false
and callers keep PyAV's encoder: slower, same output.

The settings are the ones ffmpeg's libmp3lame wrapper gives LAME for ``-b:a N``: constant
bit rate, joint stereo (mono for one channel), LAME's default algorithm quality, the bit
reservoir on, no resampling. ctypes lets go of the GIL while LAME works, so encoders in
several threads run side by side.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import weakref
from typing import Final

import av

from plyr.media.errors import MediaError

SAMPLE_FORMAT: Final = "fltp"  # what `Mp3Encoder.encode` takes: planar float, -1.0..1.0
_NAMES: Final = ("libmp3lame.so.0", "libmp3lame.0.dylib")
_JOINT_STEREO: Final = 1  # lame.h's MPEG_mode
_MONO: Final = 3
_CHANNEL_LIMIT: Final = 2


class LameError(MediaError):
    """LAME refused its settings or failed while encoding."""


def _bind(lib: ctypes.CDLL) -> ctypes.CDLL:
    handle, number, size = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
    lib.lame_init.restype = handle
    lib.lame_init.argtypes = []
    for setter in (
        "lame_set_in_samplerate",
        "lame_set_out_samplerate",
        "lame_set_num_channels",
        "lame_set_brate",
        "lame_set_mode",
        "lame_set_bWriteVbrTag",
    ):
        getattr(lib, setter).argtypes = [handle, number]
        getattr(lib, setter).restype = number
    lib.lame_init_params.argtypes = [handle]
    lib.lame_close.argtypes = [handle]
    lib.lame_encode_buffer_ieee_float.argtypes = [
        handle,
        ctypes.c_void_p,
        ctypes.c_void_p,
        number,
        ctypes.c_void_p,
        number,
    ]
    lib.lame_encode_flush.argtypes = [handle, ctypes.c_void_p, number]
    lib.lame_get_lametag_frame.argtypes = [handle, ctypes.c_void_p, size]
    lib.lame_get_lametag_frame.restype = size
    lib.get_lame_version.restype = ctypes.c_char_p
    lib.get_lame_version.argtypes = []
    return lib


@functools.cache
def library() -> ctypes.CDLL | None:
    """The machine's libmp3lame, bound; None when there is none (or it is too old to have
    the float entry point, LAME < 3.99)."""
    found = ctypes.util.find_library("mp3lame")
    for name in (found, *_NAMES) if found else _NAMES:
        try:
            return _bind(ctypes.CDLL(name))
        except (OSError, AttributeError):
            continue
    return None


def lame_available() -> bool:
    return library() is not None


def version() -> str | None:
    lib = library()
    return None if lib is None else lib.get_lame_version().decode()


class Mp3Encoder:
    """One MP3 stream: give it planar float frames, take the bytes it hands back.

    ``info_tag`` reserves LAME's first frame for the Xing/Info and LAME tag (frame count,
    encoder delay and padding for gapless decoding); `info_tag_frame` gives it once the
    stream is flushed, to be written over the first bytes. A stream that is sent as it is
    made cannot go back, so it goes without."""

    def __init__(self, rate: int, channels: int, kbps: int, *, info_tag: bool) -> None:
        lib = library()
        if lib is None:
            raise LameError("the system's libmp3lame is not installed")
        if not 1 <= channels <= _CHANNEL_LIMIT:
            raise LameError(f"{channels} channels: LAME takes mono or stereo")
        self._lib = lib
        self.channels = channels
        handle = lib.lame_init()
        if not handle:
            raise LameError("LAME could not start")
        self._handle = ctypes.c_void_p(handle)
        self._closer = weakref.finalize(self, lib.lame_close, self._handle)
        for setter, value in (
            (lib.lame_set_in_samplerate, rate),
            (lib.lame_set_out_samplerate, rate),
            (lib.lame_set_num_channels, channels),
            (lib.lame_set_brate, kbps),
            (lib.lame_set_mode, _MONO if channels == 1 else _JOINT_STEREO),
            (lib.lame_set_bWriteVbrTag, int(info_tag)),
        ):
            setter(self._handle, value)
        if lib.lame_init_params(self._handle) < 0:
            self.close()
            raise LameError(f"LAME refused {kbps} kbit/s at {rate} Hz")
        self._buffer = ctypes.create_string_buffer(8192)

    def _room(self, samples: int) -> int:
        """Grow the output buffer to LAME's worst case for `samples` (lame.h: 1.25 n + 7200)."""
        needed = samples * 5 // 4 + 7200
        if len(self._buffer) < needed:
            self._buffer = ctypes.create_string_buffer(needed)
        return len(self._buffer)

    def encode(self, frame: av.AudioFrame) -> bytes:
        """Encode a frame of `SAMPLE_FORMAT` with this stream's channels and rate."""
        samples = frame.samples
        if not samples:
            return b""
        planes = frame.planes
        if frame.format.name != SAMPLE_FORMAT or len(planes) != self.channels:
            raise LameError(
                f"a frame of {frame.format.name} {frame.layout.name} is not {SAMPLE_FORMAT}"
            )
        left = planes[0].buffer_ptr
        right = planes[1].buffer_ptr if self.channels == 2 else left
        room = self._room(samples)
        made = self._lib.lame_encode_buffer_ieee_float(
            self._handle, left, right, samples, self._buffer, room
        )
        return self._take(made)

    def flush(self) -> bytes:
        """The last frames (LAME pads the end to a whole frame)."""
        return self._take(self._lib.lame_encode_flush(self._handle, self._buffer, self._room(0)))

    def info_tag_frame(self) -> bytes:
        """The Xing/Info frame for the first bytes of the stream, after `flush`."""
        size = self._lib.lame_get_lametag_frame(self._handle, self._buffer, self._room(0))
        return ctypes.string_at(self._buffer, size)

    def _take(self, made: int) -> bytes:
        if made < 0:
            raise LameError(f"LAME failed while encoding (error {made})")
        return ctypes.string_at(self._buffer, made)

    def close(self) -> None:
        self._closer()

    def __enter__(self) -> Mp3Encoder:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
