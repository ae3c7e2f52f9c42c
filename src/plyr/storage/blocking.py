"""A stored object as a blocking, seekable, read-only file, for code running in a worker
thread that wants a file object (PyAV decoding from S3). Each read past what is buffered
asks storage for the next window through the event loop (`anyio.from_thread`), so it
must be used from a thread anyio started (`anyio.to_thread.run_sync`), and memory stays
at one window whatever the object's size."""

from __future__ import annotations

import io
import os

import anyio.from_thread

from plyr.storage.base import Storage

WINDOW = 256 * 1024


class StoredFile(io.RawIOBase):
    def __init__(self, storage: Storage, key: str, size: int, *, window: int = WINDOW) -> None:
        super().__init__()
        self._storage, self._key, self._size, self._window = storage, key, size, window
        self._position = 0
        self._buffer = b""
        self._buffer_start = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, target: memoryview | bytearray) -> int:  # type: ignore[override]
        if self._position >= self._size:
            return 0
        start = self._position - self._buffer_start
        if not 0 <= start < len(self._buffer):
            self._buffer_start = self._position
            end = min(self._position + self._window, self._size) - 1
            self._buffer = anyio.from_thread.run(self._fetch, self._position, end)
            start = 0
        taken = self._buffer[start : start + len(target)]
        target[: len(taken)] = taken
        self._position += len(taken)
        return len(taken)

    async def _fetch(self, start: int, end: int) -> bytes:
        parts = [chunk async for chunk in self._storage.get_range(self._key, start, end)]
        return b"".join(parts)
