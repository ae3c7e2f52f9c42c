"""Downloads streamed to disk: a track's original, and the zip of an export. Bytes go to
a temporary file beside the destination, renamed into place only once complete, so a
broken download never leaves a file that looks whole."""

from __future__ import annotations

import contextlib
import mimetypes
import os
import secrets
import time
from collections.abc import Callable
from email.message import Message
from pathlib import Path

from plyrfm.effects import HttpRequest, HttpResponse, Operation, ReadChunk, Sleep, TransportFailure
from plyrfm.errors import ServerError, ServerUnreachable
from plyrfm.exchange import Context, call, request_for, send
from plyrfm.models import DownloadProgress, Export
from plyrfm.routes import ROUTES

OnDownloadProgress = Callable[[DownloadProgress], None]
OnExportProgress = Callable[[Export | DownloadProgress], None]
EXPORT_POLL_SECONDS = 1.0
EXPORT_WAIT_SECONDS = 3600.0  # a stuck export job is an error, not a wait forever
EXTENSIONS = {
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/ogg": "ogg",
    "audio/flac": "flac",
    "audio/mp4": "m4a",
    "application/zip": "zip",
}


def filename_from(disposition: str | None) -> str | None:
    """The file name a Content-Disposition suggests (filename* preferred), made safe: no
    folders, no leading dots, no control characters."""
    if not disposition:
        return None
    message = Message()
    message["content-disposition"] = disposition
    name = message.get_filename()
    if not name:
        return None
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if char.isprintable()).strip().lstrip(".")
    return name or None


def _extension(content_type: str | None) -> str:
    kind = (content_type or "").split(";")[0].strip().lower()
    guessed = mimetypes.guess_extension(kind) if kind else None
    return EXTENSIONS.get(kind) or (guessed or ".bin").lstrip(".")


def _target(dest: Path | str | None, name: str) -> Path:
    if dest is None:
        return Path.cwd() / name
    path = Path(dest).expanduser()
    if path.is_dir() or str(dest).endswith(os.sep):
        return path / name
    return path


def save_stream(
    ctx: Context,
    request: HttpRequest,
    dest: Path | str | None,
    stem: str,
    on_progress: OnDownloadProgress | None,
) -> Operation[Path]:
    """Stream the answer of `request` into `dest` (a file, a folder, or None: the current
    folder); the name from Content-Disposition, else `<stem>.<ext>`."""
    response: HttpResponse = yield from send(ctx, request)
    headers = response.headers
    name = filename_from(headers.get("content-disposition"))
    target = _target(dest, name or f"{stem}.{_extension(headers.get('content-type'))}")
    length = headers.get("content-length", "")
    # Content-Length counts the encoded bytes; the chunks come decoded (gzip…).
    total = int(length) if length.isdigit() and "content-encoding" not in headers else None
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    done = False
    try:
        with open(partial, "xb") as handle:
            received = 0
            while True:
                chunk = yield ReadChunk(response)
                if isinstance(chunk, TransportFailure):
                    raise ServerUnreachable(
                        f"plyr at {ctx.base_url} stopped sending the download ({chunk.reason})"
                    )
                if not chunk:
                    break
                handle.write(chunk)
                received += len(chunk)
                if on_progress is not None:
                    on_progress(DownloadProgress(bytes_received=received, bytes_total=total))
        if total is not None and received != total:
            raise ServerUnreachable(
                f"plyr at {ctx.base_url} sent {received} of {total} bytes of the download"
            )
        os.replace(partial, target)
        done = True
    finally:
        if not done:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
    return target


def download(
    ctx: Context, track_id: int, dest: Path | str | None, on_progress: OnDownloadProgress | None
) -> Operation[Path]:
    request = request_for(ctx, ROUTES["download"], path={"track_id": track_id})
    return (yield from save_stream(ctx, request, dest, str(track_id), on_progress))


def export(
    ctx: Context, dest: Path | str | None, on_progress: OnExportProgress | None
) -> Operation[Path]:
    """Start an export, follow it until its zip is ready, download the zip."""
    job = yield from call(ctx, ROUTES["start_export"], Export)
    if on_progress is not None:
        on_progress(job)
    deadline = time.monotonic() + EXPORT_WAIT_SECONDS
    while job.status != "ready":
        if job.status in ("failed", "expired"):
            raise ServerError(f"server error: the export {job.status}: {job.error or 'no reason'}")
        if time.monotonic() > deadline:
            raise ServerError(
                f"server error: the export is still {job.status} after {EXPORT_WAIT_SECONDS:.0f} s"
            )
        yield Sleep(EXPORT_POLL_SECONDS)
        latest = yield from call(ctx, ROUTES["export_status"], Export, path={"export_id": job.id})
        if latest != job and on_progress is not None:
            on_progress(latest)
        job = latest
    request = request_for(ctx, ROUTES["export_download"], path={"export_id": job.id})
    if job.download_url:  # the server's own link, should it differ from the route
        request = HttpRequest("GET", job.download_url, stream=True)
    return (yield from save_stream(ctx, request, dest, f"plyr-export-{job.id}", on_progress))
