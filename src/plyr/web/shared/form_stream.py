"""Receive a multipart form by streaming it: files go to temporary files as they arrive,
with their size limits enforced while streaming (413 as soon as one is passed), so memory
stays flat whatever the upload's size.

Starlette's `request.form()` spools files too, but only checks sizes after the whole body
has arrived; an upload limit must stop a 20 GB body at 1.5 GB, not after.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

import anyio
from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from plyr.config import Settings
from plyr.tracks.forms import ReceivedFile, ReceivedForm
from plyr.web.shared.errors import ApiError

FLUSH_BYTES = 1024 * 1024
MAX_FIELD_BYTES = 16 * 1024
MAX_PARTS = 64

# A file part, as OpenAPI 3.1 says it (`format: binary` for the tools that read 3.0's way).
BINARY: dict[str, Any] = {
    "type": "string",
    "format": "binary",
    "contentMediaType": "application/octet-stream",
}


def multipart_body(properties: dict[str, dict[str, Any]], required: list[str]) -> dict[str, Any]:
    """`openapi_extra` of a route that streams its multipart form itself: FastAPI sees no
    body parameter there, so the OpenAPI would otherwise say the route takes no body."""
    schema = {"type": "object", "properties": properties, "required": required}
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }


IMAGE_FORM = multipart_body(
    {"image": {**BINARY, "description": "the artwork; its bytes decide the format"}}, ["image"]
)


def _header_params(value: bytes) -> dict[str, str]:
    _kind, params = parse_options_header(value)
    return {key.decode("latin-1"): val.decode("utf-8", "replace") for key, val in params.items()}


class _Collector:
    """Multipart callbacks: builds fields in memory (small) and files on disk (counted)."""

    def __init__(self, tmp_dir: Path, file_limits: dict[str, int]) -> None:
        self.tmp_dir = tmp_dir
        self.file_limits = file_limits
        self.form = ReceivedForm()
        self.parts = 0
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._field: str | None = None
        self._file: ReceivedFile | None = None
        self._handle: IO[bytes] | None = None
        self._value = bytearray()
        self.pending: list[bytes] = []
        self.pending_bytes = 0
        self.error: ApiError | None = None
        self.ended = False  # the closing boundary arrived

    # python-multipart callbacks (synchronous; file writes are flushed by the caller)
    def on_end(self) -> None:
        self.ended = True

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            self.error = ApiError(400, "invalid_input", "too many form fields")
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_name.strip().lower()] = self._header_value.strip()
        self._header_name = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        disposition = _header_params(self._headers.get(b"content-disposition", b""))
        name = disposition.get("name", "")
        self._field = name
        self._value = bytearray()
        if "filename" in disposition:
            if name not in self.file_limits:
                self.error = self.error or ApiError(
                    400, "invalid_input", f"unexpected file field {name!r}"
                )
                self._file = None
                return
            fd, raw_path = tempfile.mkstemp(dir=self.tmp_dir, prefix="upload-")
            os.close(fd)
            content_type = self._headers.get(b"content-type", b"").decode("latin-1") or None
            self._file = ReceivedFile(
                name, Path(disposition["filename"]).name[:255], Path(raw_path), 0, content_type
            )
            previous = self.form.files.get(name)
            if previous is not None:  # one file per field: the last one wins
                with contextlib.suppress(FileNotFoundError):
                    previous.path.unlink()
            self.form.files[name] = self._file
            self._handle = open(raw_path, "wb")  # noqa: SIM115 - closed in on_part_end
        else:
            self._file = None

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error is not None:
            return
        chunk = data[start:end]
        if self._file is None:
            self._value += chunk
            if len(self._value) > MAX_FIELD_BYTES:
                self.error = ApiError(413, "too_large", f"the field {self._field!r} is too long")
            return
        self._file.size += len(chunk)
        limit = self.file_limits[self._file.field]
        if self._file.size > limit:
            self.error = ApiError(
                413,
                "too_large",
                f"the {self._file.field} file is larger than the limit of {_human(limit)}",
            )
            return
        self.pending.append(chunk)
        self.pending_bytes += len(chunk)

    def on_part_end(self) -> None:
        if self._file is None and self._field is not None and self.error is None:
            text = self._value.decode("utf-8", "replace")
            self.form.fields.setdefault(self._field, []).append(text)
        if self._handle is not None:
            # The file's last bytes (under FLUSH_BYTES) go out before the next part starts.
            self.flush()
            self.close()

    def flush(self) -> None:
        """Write what arrived to the current file (called from a worker thread)."""
        if self._handle is not None and self.pending:
            self._handle.write(b"".join(self.pending))
        self.pending.clear()
        self.pending_bytes = 0

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _human(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:g} {unit}" if unit == "bytes" else f"{size:.4g} {unit}"
        size = size / 1000  # type: ignore[assignment]
    return str(size)


async def receive_form(
    request: Request, tmp_dir: Path, file_limits: dict[str, int]
) -> ReceivedForm:
    """Stream the request's multipart body; files land in `tmp_dir`. The caller cleans up."""
    content_type = request.headers.get("content-type", "")
    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise ApiError(415, "unsupported_media_type", "send the upload as multipart/form-data")
    declared = request.headers.get("content-length")
    total_limit = sum(file_limits.values()) + MAX_PARTS * MAX_FIELD_BYTES
    if declared and declared.isdigit() and int(declared) > total_limit:
        raise ApiError(
            413, "too_large", f"the upload is larger than the limit of {_human(total_limit)}"
        )
    await anyio.Path(tmp_dir).mkdir(parents=True, exist_ok=True)
    collector = _Collector(tmp_dir, file_limits)
    callbacks = {
        name: getattr(collector, name)
        for name in (
            "on_part_begin",
            "on_part_data",
            "on_part_end",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_end",
        )
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        try:
            async for chunk in request.stream():
                parser.write(chunk)
                if collector.error is not None:
                    raise collector.error
                if collector.pending_bytes >= FLUSH_BYTES:
                    await anyio.to_thread.run_sync(collector.flush)
            parser.finalize()
        except MultipartParseError as exc:  # the client's body is malformed: a 400, not ours
            raise ApiError(400, "invalid_input", "the multipart body could not be read") from exc
        if not collector.ended:  # the parser accepts a body cut short; a half file is no file
            raise ApiError(400, "invalid_input", "the multipart body ends before its last boundary")
        if collector.error is not None:
            raise collector.error
        await anyio.to_thread.run_sync(collector.flush)
    except BaseException:
        collector.close()
        collector.form.cleanup()
        raise
    finally:
        collector.close()
    return collector.form


@contextlib.asynccontextmanager
async def received_image(request: Request, settings: Settings) -> AsyncIterator[tuple[Path, Path]]:
    """The form's one `image` file streamed to disk (within the image size limit), and a
    scratch folder for what is made from it; both are removed afterwards. 422 when the
    form carries no image."""
    tmp_dir = settings.data_dir / "tmp"
    form = await receive_form(request, tmp_dir, {"image": settings.max_image_bytes})
    try:
        image = form.files.get("image")
        if image is None or image.size == 0:
            raise ApiError(422, "invalid_input", "choose an image")
        with tempfile.TemporaryDirectory(dir=tmp_dir) as work:
            yield image.path, Path(work)
    finally:
        form.cleanup()
