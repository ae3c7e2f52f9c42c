"""Making audio playable: what an upload (`track.process`) and a track indexed from the
network (`track.fetch_audio`) both do once the file is on disk. Sniff the real format,
probe it, store the original content-addressed (its hash names it; the caller decides what
a duplicate means), make a streamable copy when browsers can't play the original, measure
loudness and, in the same decode, the waveform's peaks (stored beside the audio:
`plyr.tracks.waveforms`), and prepare the artwork (a given image, else the file's embedded
cover).

Every object stored is appended to the caller's `stored` list as it goes, so a failure can
remove what no track ended up using. What is wrong with the file raises a
`plyr.media.errors.MediaError` (permanent); anything else (storage unreachable) is the
caller's to retry.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio

from plyr.jobs.registry import ProgressReporter
from plyr.media.artwork import check_image, process_artwork
from plyr.media.errors import CorruptFile, MediaError, MetadataTooLarge, UnsafeImage
from plyr.media.loudness import integrated_loudness, playback_gain_db
from plyr.media.probe import AudioInfo, probe_audio
from plyr.media.sniff import AudioFormat, sniff_audio
from plyr.media.transcode import transcode, transcode_reason
from plyr.media.waveform import PeakMeter
from plyr.runtime import Runtime
from plyr.storage.artwork import store_artwork
from plyr.storage.base import put_content_addressed
from plyr.tracks.waveforms import store_waveform

T = TypeVar("T")

TRANSCODE_TARGET = "mp3"
STREAM_MIME = {"mp3": "audio/mpeg", "opus": "audio/ogg"}


class ArtworkRefused(MediaError):
    """The artwork the artist gave can't be used (an upload fails for it)."""


@dataclass(frozen=True, slots=True)
class PreparedAudio:
    """What the stored media of a track is, ready to be written on its row."""

    digest: str  # SHA-256 of the original: the content hash
    original_key: str
    stream_key: str
    stream_content_type: str
    file_type: str  # the format that is streamed
    info: AudioInfo
    loudness_lufs: float | None
    gain_db: float
    image_key: str | None
    thumbnail_key: str | None
    waveform_key: str | None

    def columns(self) -> dict[str, Any]:
        """The Track columns these media fill."""
        return {
            "content_hash": self.digest,
            "original_key": self.original_key,
            "stream_key": self.stream_key,
            "stream_content_type": self.stream_content_type,
            "file_type": self.file_type,
            "duration_seconds": self.info.duration_seconds,
            "codec": self.info.codec,
            "sample_rate": self.info.sample_rate,
            "channels": self.info.channels,
            "loudness_lufs": self.loudness_lufs,
            "gain_db": self.gain_db,
            "image_key": self.image_key,
            "thumbnail_key": self.thumbnail_key,
            "waveform_key": self.waveform_key,
        }


async def download_object(runtime: Runtime, key: str, target: Path) -> None:
    """Copy a stored object to a local file (streamed)."""
    async with await anyio.open_file(target, "wb") as handle:
        async for chunk in runtime.storage.get_range(key):
            await handle.write(chunk)


async def _in_thread_with_progress(
    report: ProgressReporter,
    phase: str,
    start: float,
    end: float,
    func: Callable[..., T],
    *args: Any,
) -> T:
    """Run CPU work in a thread (PyAV and numpy release the GIL) and report its progress."""
    latest = [0.0]

    def progress(fraction: float) -> None:
        latest[0] = max(0.0, min(1.0, fraction))

    task = asyncio.ensure_future(anyio.to_thread.run_sync(lambda: func(*args, progress=progress)))
    while not task.done():
        await report(phase, start + (end - start) * latest[0])
        await asyncio.wait({task}, timeout=0.5)
    return task.result()


def failure_message(exc: Exception) -> str:
    """A media failure in plain words."""
    text = str(exc)
    if isinstance(exc, CorruptFile) and "can't be decoded" not in text:
        return f"this file can't be decoded: {text}"
    return text


async def prepare_audio(
    runtime: Runtime,
    source: Path,
    work: Path,
    *,
    size_bytes: int,
    report: ProgressReporter,
    stored: list[str],
    warnings: list[str],
    artwork: Path | None = None,
    artwork_required: bool = True,
    check_duplicate: Callable[[str], Awaitable[None]] | None = None,
) -> PreparedAudio:
    """Make the audio file `source` (in the scratch folder `work`) playable and store it.

    `artwork` is an image file for the track: with `artwork_required`, one that can't be
    used raises ArtworkRefused (an upload's own artwork); otherwise it is skipped with a
    warning. Without it, the file's embedded cover is used when it is usable.
    `check_duplicate(digest)` runs right after hashing, before the long steps, and may
    raise to refuse the file.
    """
    settings = runtime.settings
    storage = runtime.storage
    await report("probing", 0.06, "reading the audio")
    audio_format = await anyio.to_thread.run_sync(sniff_audio, source)
    info = await anyio.to_thread.run_sync(probe_audio, source, audio_format)
    # Refuse a metadata bomb before the long steps; the cover is used later.
    embedded = None
    if info.largest_picture_bytes > settings.max_image_bytes:
        raise MetadataTooLarge(
            f"the embedded artwork is too large: {info.largest_picture_bytes / 1e6:.2f} MB "
            f"(at most {settings.max_image_bytes / 1e6:.2f} MB, as for uploaded artwork)"
        )
    if info.cover is not None and artwork is None:
        embedded = await anyio.to_thread.run_sync(_checked_cover, info, work, warnings)

    await report("hashing", 0.1, "checking for duplicates")
    original, _new = await put_content_addressed(
        storage, "audio", source, audio_format.extension, audio_format.mime
    )
    stored.append(original.key)
    digest = original.key.rsplit("/", 1)[-1].split(".", 1)[0]
    if check_duplicate is not None:
        await check_duplicate(digest)

    stream_key, stream_type, stream_path = original.key, audio_format.mime, source
    stream_format: AudioFormat | None = audio_format
    file_type = audio_format.extension
    reason = transcode_reason(info, audio_format, size_bytes, settings.wav_stream_limit_bytes)
    if reason is not None:
        warnings.append(
            f"a streamable {TRANSCODE_TARGET} was made ({reason}); the original is kept"
        )
        await report("transcoding", 0.15, f"making a streamable {TRANSCODE_TARGET}")
        out = await _in_thread_with_progress(
            report,
            "transcoding",
            0.15,
            0.75,
            functools.partial(transcode, fmt=audio_format),
            source,
            work,
            TRANSCODE_TARGET,
        )
        stream, _ = await put_content_addressed(
            storage, "audio", out, TRANSCODE_TARGET, STREAM_MIME[TRANSCODE_TARGET]
        )
        stored.append(stream.key)
        stream_key, stream_type, stream_path = stream.key, STREAM_MIME[TRANSCODE_TARGET], out
        stream_format = None  # the new file: loudness reads its format itself
        file_type = TRANSCODE_TARGET

    await report("loudness", 0.8, "measuring loudness")
    peaks: list[PeakMeter] = []

    def peak_meter(rate: int) -> Callable[[Any], None]:
        peaks.append(PeakMeter(rate))
        return peaks[-1].add

    loudness = await anyio.to_thread.run_sync(
        functools.partial(integrated_loudness, listeners=[peak_meter]), stream_path, stream_format
    )
    waveform_key = None
    if peaks and peaks[0].samples:
        waveform_key = await store_waveform(storage, peaks[0].result())
        stored.append(waveform_key)

    await report("artwork", 0.9, "preparing artwork")
    image_key, thumb_key = await _artwork(
        runtime, work, artwork, embedded, stored, warnings, required=artwork_required
    )
    return PreparedAudio(
        digest=digest,
        original_key=original.key,
        stream_key=stream_key,
        stream_content_type=stream_type,
        file_type=file_type,
        info=info,
        loudness_lufs=loudness.lufs if loudness.lufs != float("-inf") else None,
        gain_db=playback_gain_db(loudness),
        image_key=image_key,
        thumbnail_key=thumb_key,
        waveform_key=waveform_key,
    )


async def _artwork(
    runtime: Runtime,
    work: Path,
    given: Path | None,
    embedded: Path | None,
    stored: list[str],
    warnings: list[str],
    *,
    required: bool,
) -> tuple[str | None, str | None]:
    """The stored cover and thumbnail keys from the given image, else the embedded cover."""
    artwork = None
    try:
        if given is not None:
            artwork = await anyio.to_thread.run_sync(process_artwork, given, work)
        elif embedded is not None:
            artwork = await anyio.to_thread.run_sync(process_artwork, embedded, work)
            warnings.append("artwork taken from the file's embedded cover")
    except MediaError as exc:
        if given is not None and required:
            raise ArtworkRefused(f"the artwork can't be used: {exc}") from exc
        which = "artwork" if given is not None else "embedded cover"
        warnings.append(f"the {which} was skipped: {exc}")
    if artwork is None:
        return None, None
    image_key, thumb_key = await store_artwork(runtime.storage, artwork)
    stored.extend([image_key, thumb_key])
    return image_key, thumb_key


def _checked_cover(info: AudioInfo, work: Path, warnings: list[str]) -> Path | None:
    """The embedded cover as a file, once its header passed the limits of uploaded artwork.
    A bomb fails the file; a cover that is merely unreadable is skipped with a warning."""
    assert info.cover is not None
    path = work / "embedded-cover"
    path.write_bytes(info.cover)
    try:
        check_image(path)
    except UnsafeImage as exc:
        raise MetadataTooLarge(f"the embedded artwork is too large: {exc}") from None
    except MediaError as exc:
        declared = f" (declared as {info.cover_mime})" if info.cover_mime else ""
        warnings.append(f"the embedded cover{declared} was skipped: {exc}")
        return None
    return path
