"""An export's zip: what goes in it, in which order, and how far writing it has got.

The one path every way of exporting takes (`GET /api/me/export` streams it to the browser,
the `export.build` job into storage, `plyr export` into a file):

```
records/<collection>/<rkey>.json   the user's plyr records, as their PDS holds them
audio/<title>-<id>.<ext>           each original, byte for byte as uploaded
artwork/<title>-<id>.<ext>         track artwork; artwork/lists/… list covers
manifest.json                      the user, tracks (fields, tags, album, file names,
                                   SHA-256 and sizes, URIs), likes, comments, lists in
                                   order, profile, preferences, and where records came from
```

The manifest comes last: it carries the hashes of the bytes actually written (computed as
they pass) and what the PDS answered. `prepare` reads everything but the bytes up front, so
a caller can refuse (404, 503) before the first byte goes out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from plyr import __version__
from plyr.atproto.syntax import format_datetime
from plyr.db.models import utcnow
from plyr.export.contents import Contents, StoredFile, gather
from plyr.export.records import RecordsReport, record_files
from plyr.export.zipping import Member, zip_stream
from plyr.runtime import Runtime

MANIFEST = "manifest.json"
FORMAT = "plyr-export"
FORMAT_VERSION = 1


@dataclass(slots=True)
class ExportProgress:
    """How far the zip has got; updated from the zip's thread as bytes pass."""

    total_bytes: int
    done_bytes: int = 0
    files: int = 0

    @property
    def fraction(self) -> float:
        """0..1 of the stored files' bytes (records and the manifest are small)."""
        if self.total_bytes <= 0:
            return 0.0
        return min(1.0, self.done_bytes / self.total_bytes)


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _json(value: Any) -> bytes:
    def default(item: Any) -> Any:
        if isinstance(item, StoredFile):
            return item.described()
        raise TypeError(f"{type(item).__name__} is not JSON")

    return json.dumps(value, indent=2, ensure_ascii=False, default=default).encode() + b"\n"


class Archive:
    """One user's export, gathered and ready to be written (once) by `chunks()`."""

    def __init__(self, runtime: Runtime, contents: Contents, exported_at: datetime) -> None:
        self.runtime = runtime
        self.contents = contents
        self.exported_at = exported_at
        self.progress = ExportProgress(total_bytes=contents.file_bytes)
        self.records = RecordsReport(pds=contents.pds_url)
        self._hashes: dict[str, Any] = {}

    @property
    def handle(self) -> str:
        return self.contents.handle

    @property
    def download_name(self) -> str:
        """`plyr-<handle>-<date>.zip`; handles are plain ASCII."""
        return f"plyr-{self.contents.handle}-{self.exported_at:%Y-%m-%d}.zip"

    def chunks(self) -> AsyncGenerator[bytes, None]:
        """The zip's bytes, made as they are read."""
        return zip_stream(self._members())

    def _json_member(self, name: str, data: bytes) -> Member:
        self.progress.files += 1
        return Member(name, self.exported_at, len(data), _once(data), compress=True)

    def _counted(self, stored: StoredFile) -> Callable[[bytes], None]:
        hasher = self._hashes[stored.name] = hashlib.sha256()
        progress = self.progress

        def seen(chunk: bytes) -> None:
            hasher.update(chunk)
            stored.written += len(chunk)
            progress.done_bytes += len(chunk)

        return seen

    async def _members(self) -> AsyncIterator[Member]:
        contents = self.contents
        async for record in record_files(
            self.runtime, contents.did, contents.pds_url, self.records
        ):
            yield self._json_member(record.name, record.data)
        for stored in contents.files:
            self.progress.files += 1
            yield Member(
                stored.name,
                stored.modified,
                stored.size,
                self.runtime.storage.get_range(stored.key),
                seen=self._counted(stored),
            )
        for stored in contents.files:
            stored.sha256 = self._hashes[stored.name].hexdigest()
        yield self._json_member(MANIFEST, _json(self.manifest()))

    def manifest(self) -> dict[str, Any]:
        contents = self.contents
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "exported_at": format_datetime(self.exported_at),
            "exported_by": f"plyr {__version__}",
            "site": self.runtime.settings.public_url,
            "user": contents.user,
            "profile": contents.profile,
            "preferences": contents.preferences,
            "tracks": contents.tracks,
            "likes": contents.likes,
            "comments": contents.comments,
            "lists": contents.lists,
            "records": self.records.as_manifest(),
            "files": {
                "stored": len(contents.files),
                "bytes": sum(stored.written for stored in contents.files),
                "layout": {
                    "audio/": "each track's original file, byte for byte as uploaded",
                    "artwork/": "track artwork (once per image) and list covers (lists/)",
                    "records/": "your plyr records, one JSON file each (see records.note)",
                },
            },
            "missing": contents.missing,
        }


async def prepare(runtime: Runtime, did: str) -> Archive:
    """Gather `did`'s export (rows and file sizes); the bytes are read by `chunks()`."""
    return Archive(runtime, await gather(runtime, did), utcnow())
