"""multipart/form-data bodies streamed from files: the parts' headers are built up front
(so the length is known and sent as Content-Length) and the files are read a chunk at a
time while the body goes out, never whole into memory."""

from __future__ import annotations

import mimetypes
import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

CHUNK = 64 * 1024


def _quoted(value: str) -> str:
    # What browsers do with quotes and line breaks in names (the HTML form encoding).
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


@dataclass(frozen=True)
class FilePart:
    field: str
    path: Path

    @property
    def size(self) -> int:
        return os.stat(self.path).st_size


@dataclass(frozen=True)
class MultipartBody:
    """A form of text fields (each may repeat) and files."""

    fields: Sequence[tuple[str, str]]
    files: Sequence[FilePart]
    boundary: str = ""

    def __post_init__(self) -> None:
        if not self.boundary:
            object.__setattr__(self, "boundary", "plyrfm-" + secrets.token_hex(16))

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _text_part(self, name: str, value: str) -> bytes:
        head = f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"'
        return f"{head}\r\n\r\n".encode() + value.encode() + b"\r\n"

    def _file_head(self, part: FilePart) -> bytes:
        kind = mimetypes.guess_type(part.path.name)[0] or "application/octet-stream"
        return (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{_quoted(part.field)}"; '
            f'filename="{_quoted(part.path.name)}"\r\n'
            f"Content-Type: {kind}\r\n\r\n"
        ).encode()

    def _closing(self) -> bytes:
        return f"--{self.boundary}--\r\n".encode()

    def length(self) -> int:
        """The body's size in bytes, for Content-Length."""
        total = sum(len(self._text_part(name, value)) for name, value in self.fields)
        total += sum(len(self._file_head(part)) + part.size + 2 for part in self.files)
        return total + len(self._closing())

    def chunks(self, on_sent: Callable[[int], None] | None = None) -> Iterator[bytes]:
        """The body, a piece at a time; `on_sent(n)` after each piece with the bytes so
        far (called as the transport pulls them, so it follows the upload)."""
        sent = 0

        def went(piece: bytes) -> bytes:
            nonlocal sent
            sent += len(piece)
            if on_sent is not None:
                on_sent(sent)
            return piece

        for name, value in self.fields:
            yield went(self._text_part(name, value))
        for part in self.files:
            yield went(self._file_head(part))
            with open(part.path, "rb") as handle:
                while piece := handle.read(CHUNK):
                    yield went(piece)
            yield went(b"\r\n")
        yield went(self._closing())
