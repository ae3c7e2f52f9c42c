"""Uploading a track: the multipart form streamed from the file (progress "sending"), then
the server's progress followed over Server-Sent Events until the track is published —
or, when the stream breaks, by polling the upload's status."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError

from plyrfm.effects import Close, Operation, ReadChunk, Sleep, TransportFailure
from plyrfm.errors import InvalidRequest, ServerError, ServerUnreachable, UploadFailed
from plyrfm.exchange import Context, call, request_for, require_token, send
from plyrfm.models import Progress, Track, UploadAccepted, UploadProgress
from plyrfm.multipart import FilePart, MultipartBody
from plyrfm.operations.tracks import track
from plyrfm.routes import ROUTES
from plyrfm.sse import EventStreamParser

OnUploadProgress = Callable[[UploadProgress], None]
POLL_SECONDS = 0.5
WAIT_SECONDS = 3600.0  # as long as the server keeps a progress stream open


def readable_file(path: Path | str, what: str) -> Path:
    """A file that can be read, checked before anything is sent: a missing or unreadable
    one is InvalidRequest here rather than an OSError from inside the HTTP client."""
    found = Path(path).expanduser()
    if not found.exists():
        raise InvalidRequest(f"invalid request: the {what} {found} does not exist")
    if not found.is_file():
        raise InvalidRequest(f"invalid request: the {what} {found} is not a file")
    try:
        with open(found, "rb"):
            pass
    except OSError as exc:
        raise InvalidRequest(
            f"invalid request: the {what} {found} cannot be read ({exc.strerror or exc})"
        ) from exc
    return found


def _form(
    audio: Path,
    cover: Path | None,
    text: dict[str, str | None],
    lists: dict[str, Sequence[str]],
) -> MultipartBody:
    fields = [(name, value) for name, value in text.items() if value is not None]
    fields += [(name, item) for name, items in lists.items() for item in items if item]
    files = [FilePart("file", audio)] + ([FilePart("image", cover)] if cover else [])
    return MultipartBody(fields, files)


def _sending(sent: int, total: int) -> UploadProgress:
    return UploadProgress(
        phase="sending",
        percent=sent * 100 // total if total else 100,
        message=f"sending {sent} of {total} bytes",
        warnings=[],
        track_id=None,
        error=None,
        done=False,
        bytes_sent=sent,
        bytes_total=total,
    )


def upload(
    ctx: Context,
    path: Path | str,
    *,
    title: str | None,
    album: str | None,
    description: str | None,
    tags: Sequence[str],
    features: Sequence[str],
    self_labels: Sequence[str],
    cover: Path | str | None,
    on_progress: OnUploadProgress | None,
    lyrics: str | None = None,
    synced_lyrics: str | None = None,
    lyrics_lang: str | None = None,
) -> Operation[Track]:
    require_token(ctx, "uploading")
    audio = readable_file(path, "audio file")
    image = readable_file(cover, "cover") if cover is not None else None
    text = {"title": title, "album": album, "description": description, "lyrics": lyrics}
    text |= {"synced_lyrics": synced_lyrics, "lyrics_lang": lyrics_lang}
    lists = {"tags": tags, "features": features, "self_labels": self_labels}
    form = _form(audio, image, text, lists)
    total = form.length()

    def report(progress: UploadProgress) -> None:
        if on_progress is not None:
            on_progress(progress)

    accepted = yield from call(
        ctx,
        ROUTES["upload"],
        UploadAccepted,
        body=lambda: form.chunks(lambda sent: report(_sending(sent, total))),
        headers={"content-type": form.content_type, "content-length": str(total)},
    )
    deadline = time.monotonic() + WAIT_SECONDS
    last = yield from _follow_events(ctx, accepted, report)
    if last is None or not last.done:
        last = yield from _poll(ctx, accepted, report, last, deadline)
    if last.phase == "failed" or last.track_id is None:
        raise UploadFailed(f"upload failed: {last.error or last.message}")
    return (yield from track(ctx, last.track_id))


def _follow_events(
    ctx: Context, accepted: UploadAccepted, report: OnUploadProgress
) -> Operation[Progress | None]:
    """The progress stream until the upload is done; the last progress seen (None or not
    done when the stream broke, so the caller polls from there)."""
    request = request_for(ctx, ROUTES["upload_events"], path={"upload_id": accepted.upload_id})
    try:
        response = yield from send(ctx, request)
    except (ServerUnreachable, ServerError):
        return None
    parser = EventStreamParser()
    last: Progress | None = None
    while True:
        chunk = yield ReadChunk(response)
        if isinstance(chunk, TransportFailure) or not chunk:
            yield Close(response)  # its connection is not held while the poll goes on
            return last
        for event in parser.feed(chunk):
            if event.event != "progress":
                continue
            try:
                progress = Progress.model_validate_json(event.data)
            except ValidationError:
                continue  # a newer server's event this SDK cannot read: the poll will
            last = progress
            report(UploadProgress.of(progress))
            if progress.done:
                yield Close(response)
                return progress


def _poll(
    ctx: Context,
    accepted: UploadAccepted,
    report: OnUploadProgress,
    last: Progress | None,
    deadline: float,
) -> Operation[Progress]:
    path = {"upload_id": accepted.upload_id}
    while True:
        progress = yield from call(ctx, ROUTES["upload_status"], Progress, path=path)
        if progress != last:
            report(UploadProgress.of(progress))
            last = progress
        if progress.done:
            return progress
        if time.monotonic() > deadline:
            raise UploadFailed(f"upload failed: still {progress.phase} after {WAIT_SECONDS:.0f} s")
        yield Sleep(POLL_SECONDS)
