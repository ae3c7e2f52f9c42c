"""Local-file storage: the embedded default. Objects are files under one folder."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat as stat_mode
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import anyio

from plyr.storage.base import (
    CHUNK_SIZE,
    ObjectInfo,
    ObjectNotFound,
    StorageUnavailable,
    validate_key,
)

TMP_DIR = ".tmp"


class LocalStorage:
    name = "local"

    def __init__(self, root: Path, public_base_url: str) -> None:
        self.root = root.resolve()
        self._root = str(self.root)
        self.public_base_url = public_base_url.rstrip("/")

    def path_for(self, key: str) -> Path:
        """The file behind a key; the streaming path hands it to sendfile or the proxy."""
        return self.root / validate_key(key)

    def file_path(self, key: str) -> str:
        """`path_for` as a string, for the serving path: a pathlib join of a key costs
        more than opening the file does."""
        return f"{self._root}/{validate_key(key)}"

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], content_type: str | None = None
    ) -> ObjectInfo:
        target = self.path_for(key)
        tmp_dir = self.root / TMP_DIR
        await anyio.Path(tmp_dir).mkdir(parents=True, exist_ok=True)
        await anyio.Path(target.parent).mkdir(parents=True, exist_ok=True)
        tmp = tmp_dir / f"{secrets.token_hex(8)}.part"
        try:
            async with await anyio.open_file(tmp, "wb") as handle:
                async for chunk in chunks:
                    await handle.write(chunk)
                await anyio.to_thread.run_sync(os.fsync, handle.wrapped.fileno())
            # Same file system: the rename is atomic, so readers see old or new, never half.
            await anyio.to_thread.run_sync(os.replace, tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        info = await self.stat(key)
        assert info is not None
        return info

    async def get_range(
        self, key: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        if start < 0:
            raise ValueError(f"range start must not be negative, got {start}")
        if end is not None and end < start:
            raise ValueError(f"range end {end} is before its start {start}")
        path = self.path_for(key)
        try:
            handle = await anyio.open_file(path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        async with handle:
            size = os.fstat(handle.wrapped.fileno()).st_size
            # Like HTTP 416: a range must start inside the object; only a whole read of an
            # empty object may start at its end.
            if start >= size and (start > 0 or end is not None):
                raise ValueError(f"range start {start} is beyond the end of {key} ({size} bytes)")
            await handle.seek(start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                wanted = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
                chunk = await handle.read(wanted)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    async def stat(self, key: str) -> ObjectInfo | None:
        try:
            st = await anyio.Path(self.path_for(key)).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not stat_mode.S_ISREG(st.st_mode):
            return None  # a folder of the fan-out, not an object
        return ObjectInfo(
            key=key,
            size=st.st_size,
            content_type=None,
            # Keys are content hashes, so size + mtime is a stable validator.
            etag=f'"{st.st_size:x}-{st.st_mtime_ns:x}"',
            last_modified=datetime.fromtimestamp(st.st_mtime, UTC),
        )

    async def delete(self, key: str) -> bool:
        try:
            await anyio.Path(self.path_for(key)).unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return False
        return True

    async def url(self, key: str, *, expires_seconds: int | None = None) -> str:
        return f"{self.public_base_url}/media/{quote(validate_key(key))}"

    async def check(self) -> None:
        probe = self.root / TMP_DIR / f"check-{secrets.token_hex(4)}"
        try:
            await anyio.Path(probe.parent).mkdir(parents=True, exist_ok=True)
            await anyio.Path(probe).write_bytes(b"ok")
            await anyio.Path(probe).unlink()
        except OSError as exc:
            raise StorageUnavailable(
                f"storage folder {self.root} is not writable ({exc.strerror or exc}); "
                "fix its permissions or set PLYR_STORAGE_LOCAL_DIR"
            ) from exc

    async def close(self) -> None:
        return None
