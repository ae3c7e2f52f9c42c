"""Acoustic fingerprints (Chromaprint) of audio files, and the fingerprint files fpcalc writes.

A fingerprint is Chromaprint's raw form: one uint32 sub-fingerprint per ~0.124 s of audio
(4096 / 3 samples at 11025 Hz), stored little-endian in the database. Why this way:

- PyAV decodes and resamples to mono s16 at 11025 Hz, the rate Chromaprint works at, so it
  resamples nothing itself; PCM goes in chunk by chunk, memory stays flat whatever the
  length, and the whole track is fingerprinted (matched ranges must be able to cover it).
- The Python binding (pyacoustid's ``chromaprint``) hands back the compressed form only;
  decompressing it is lossless and gives the raw values.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

import av
import av.error
import chromaprint  # type: ignore[import-untyped]
import numpy as np
import numpy.typing as npt

from plyr.media.errors import CorruptFile, MediaError
from plyr.media.sniff import AudioFormat, StrPath, best_audio_stream, sniff_audio

UInt32Array = npt.NDArray[np.uint32]

ENGINE: Final = "chromaprint-2"  # Chromaprint's default algorithm (TEST2), as fpcalc uses
SAMPLE_RATE: Final = 11025
ITEM_SECONDS: Final = 4096 / 3 / SAMPLE_RATE  # time between two sub-fingerprints
_ALGORITHM: Final = 1  # chromaprint's ALGORITHM_TEST2
_CHUNK_SAMPLES: Final = SAMPLE_RATE * 10  # PCM handed to Chromaprint at once
_MIN_SECONDS: Final = 3.0  # Chromaprint needs a few seconds before it outputs anything


class FingerprintFileError(MediaError):
    """A fingerprint file the operator imports can't be read; the message says where."""


@dataclass(frozen=True, eq=False)
class Fingerprint:
    """A raw Chromaprint fingerprint and the duration of the audio it was taken from."""

    values: UInt32Array = field(repr=False)
    duration: float  # seconds
    engine: str = ENGINE

    def __post_init__(self) -> None:
        values = np.ascontiguousarray(self.values, dtype=np.uint32)
        if values.flags.writeable:  # a private, read-only copy: the caller keeps theirs
            values = values.copy()
            values.setflags(write=False)
        object.__setattr__(self, "values", values)

    def __len__(self) -> int:
        return len(self.values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fingerprint):
            return NotImplemented
        return (
            self.engine == other.engine
            and self.duration == other.duration
            and np.array_equal(self.values, other.values)
        )

    __hash__ = None  # type: ignore[assignment]  # an array inside: not hashable

    def to_bytes(self) -> bytes:
        """The values as little-endian uint32, for the database's LargeBinary columns."""
        return self.values.astype("<u4", copy=False).tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, duration: float, engine: str = ENGINE) -> Fingerprint:
        if len(data) % 4:
            raise ValueError("a fingerprint is a whole number of 4-byte values")
        return cls(np.frombuffer(data, dtype="<u4"), duration, engine)

    def compressed(self) -> str:
        """Chromaprint's compressed base64 form (what fpcalc prints, what AcoustID takes)."""
        encoded = chromaprint.encode_fingerprint(self.values.astype(np.int32).tolist(), _ALGORITHM)
        return bytes(encoded).decode("ascii")


def fingerprint_file(path: StrPath, fmt: AudioFormat | None = None) -> Fingerprint:
    """Fingerprint a whole audio file. Raises ``CorruptFile`` (or ``UnsupportedFormat`` from
    sniffing) when it can't be decoded, or is too short or silent to fingerprint."""
    if fmt is None:
        fmt = sniff_audio(path)
    printer = chromaprint.Fingerprinter()
    printer.start(SAMPLE_RATE, 1)
    samples = 0
    try:
        for chunk in _pcm_chunks(path, fmt):
            printer.feed(chunk)
            samples += len(chunk) // 2
        encoded = printer.finish()
    except av.error.FFmpegError:
        raise CorruptFile("the audio can't be decoded; it may be truncated or damaged") from None
    except chromaprint.FingerprintError:
        raise CorruptFile("the audio can't be fingerprinted") from None
    duration = samples / SAMPLE_RATE
    if duration < _MIN_SECONDS or not encoded:
        raise CorruptFile(f"the audio is too short to fingerprint (under {_MIN_SECONDS:g} s)")
    values, _ = chromaprint.decode_fingerprint(encoded)
    return Fingerprint(np.asarray(values, dtype=np.uint32), round(duration, 3))


def _pcm_chunks(path: StrPath, fmt: AudioFormat) -> Iterator[bytes]:
    """Mono s16 PCM at 11025 Hz, in chunks of about ten seconds."""
    with av.open(os.fspath(path), format=fmt.demuxer) as container:
        stream = best_audio_stream(container)
        if stream is None:
            raise CorruptFile("the file holds no audio")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        pending: list[bytes] = []
        size = 0
        for frame in container.decode(stream):
            frame.pts = None  # timestamps gaps must not make the resampler pad or drop
            for converted in resampler.resample(frame):
                pending.append(bytes(converted.planes[0])[: converted.samples * 2])
                size += converted.samples
            if size >= _CHUNK_SAMPLES:
                yield b"".join(pending)
                pending, size = [], 0
        for converted in resampler.resample(None):
            pending.append(bytes(converted.planes[0])[: converted.samples * 2])
        if pending:
            yield b"".join(pending)


# Fingerprint files: what `fpcalc`, `fpcalc -raw` and `fpcalc -json` print, one or many files.


@dataclass(frozen=True)
class FingerprintEntry:
    """One fingerprint from a file fpcalc wrote; ``source`` is its FILE= name when given."""

    fingerprint: Fingerprint
    source: str | None


_MAX_FILE_CHARS: Final = 64 * 1024 * 1024


def parse_fingerprint_file(text: str) -> list[FingerprintEntry]:
    """Read fpcalc's output: plain (compressed base64), ``-raw`` (integers) or ``-json``
    (one object, or one per line for several files). Raises ``FingerprintFileError``."""
    if len(text) > _MAX_FILE_CHARS:
        raise FingerprintFileError("the fingerprint file is too large")
    stripped = text.strip()
    if not stripped:
        raise FingerprintFileError("the fingerprint file is empty")
    if stripped.startswith(("{", "[")):
        return _parse_json(stripped)
    return _parse_plain(stripped)


def _parse_json(text: str) -> list[FingerprintEntry]:
    try:
        documents = [json.loads(text)]
    except json.JSONDecodeError:
        # fpcalc -json given several files prints one object per line.
        try:
            documents = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise FingerprintFileError(f"the JSON can't be read (line {exc.lineno})") from None
    objects: list[object] = []
    for document in documents:
        objects.extend(document if isinstance(document, list) else [document])
    entries = []
    for n, obj in enumerate(objects, 1):
        if not isinstance(obj, dict):
            raise FingerprintFileError(f"entry {n}: expected an object")
        source = obj.get("file")
        entries.append(
            FingerprintEntry(
                _entry(obj.get("duration"), obj.get("fingerprint"), n),
                source if isinstance(source, str) else None,
            )
        )
    return entries


_LINE = re.compile(r"^([A-Z]+)=(.*)$")


def _parse_plain(text: str) -> list[FingerprintEntry]:
    entries: list[FingerprintEntry] = []
    current: dict[str, str] = {}

    def close() -> None:
        if current:
            n = len(entries) + 1
            fp = _entry(current.get("DURATION"), current.get("FINGERPRINT"), n)
            entries.append(FingerprintEntry(fp, current.get("FILE")))
            current.clear()

    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        found = _LINE.match(line.strip())
        if found is None:
            raise FingerprintFileError(f"line {number}: expected NAME=value, as fpcalc prints")
        name, value = found.groups()
        # A new FILE=, or a second DURATION= without FILE= lines, starts the next entry.
        if current and (name == "FILE" or name in current):
            close()
        current[name] = value
    close()
    return entries


def _entry(duration: object, fingerprint: object, n: int) -> Fingerprint:
    if isinstance(duration, str):
        try:
            duration = float(duration)
        except ValueError:
            raise FingerprintFileError(f"entry {n}: the duration is not a number") from None
    if not isinstance(duration, int | float) or isinstance(duration, bool) or duration <= 0:
        raise FingerprintFileError(f"entry {n}: a positive duration is needed")
    if isinstance(fingerprint, list):
        values = _raw_values(fingerprint, n)
    elif isinstance(fingerprint, str) and fingerprint:
        if re.fullmatch(r"-?\d+(,-?\d+)*", fingerprint):  # fpcalc -raw
            values = _raw_values([int(v) for v in fingerprint.split(",")], n)
        else:
            values = _decompress(fingerprint, n)
    else:
        raise FingerprintFileError(f"entry {n}: no fingerprint")
    if not len(values):
        raise FingerprintFileError(f"entry {n}: the fingerprint is empty")
    return Fingerprint(values, float(duration))


def _raw_values(items: list[object], n: int) -> UInt32Array:
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        raise FingerprintFileError(f"entry {n}: the raw fingerprint holds a non-integer")
    ints = np.array(items, dtype=np.int64)
    if len(ints) and (ints.min() < -(2**31) or ints.max() >= 2**32):
        raise FingerprintFileError(f"entry {n}: a raw value is out of the 32-bit range")
    return (ints & 0xFFFFFFFF).astype(np.uint32)


def _decompress(text: str, n: int) -> UInt32Array:
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", text):
        raise FingerprintFileError(f"entry {n}: the fingerprint is not fpcalc's base64")
    try:
        values, algorithm = chromaprint.decode_fingerprint(text.encode("ascii"))
    except chromaprint.FingerprintError:
        raise FingerprintFileError(f"entry {n}: the fingerprint can't be decoded") from None
    if algorithm != _ALGORITHM:
        raise FingerprintFileError(f"entry {n}: made by another Chromaprint algorithm")
    return np.asarray(values, dtype=np.uint32)
