"""A received upload form: small fields in memory, files already on disk (see
plyr.web.shared.form_stream, which fills it while the body streams in)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ReceivedFile:
    field: str
    filename: str
    path: Path
    size: int = 0
    content_type: str | None = None


@dataclass
class ReceivedForm:
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, ReceivedFile] = field(default_factory=dict)

    def value(self, name: str) -> str:
        values = self.fields.get(name)
        return values[-1].strip() if values else ""

    def values(self, name: str) -> list[str]:
        return [value.strip() for value in self.fields.get(name, []) if value.strip()]

    def cleanup(self) -> None:
        for received in self.files.values():
            with contextlib.suppress(FileNotFoundError):
                received.path.unlink()
