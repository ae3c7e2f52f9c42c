"""The storage interface every backend implements, and content-addressed keys."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

import anyio

CHUNK_SIZE = 1024 * 1024
_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9._/-]{0,510}$")


class StorageError(Exception):
    """A storage operation failed in a way the caller should report."""


class StorageUnavailable(StorageError):
    """The backend cannot be reached (S3 endpoint down, folder not writable)."""


class ObjectNotFound(StorageError):
    pass


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str | None
    etag: str | None
    last_modified: datetime | None


def validate_key(key: str) -> str:
    """Keys are lowercase relative paths without `..`: safe as file names and S3 keys."""
    if not _KEY_RE.match(key) or ".." in key or "//" in key:
        raise ValueError(f"invalid storage key {key!r}")
    return key


def content_key(namespace: str, sha256_hex: str, extension: str) -> str:
    """`audio/ab/abcdef….mp3`: a two-character fan-out keeps folders small."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256_hex):
        raise ValueError("content keys need a lowercase SHA-256 hex digest")
    ext = extension.lower().lstrip(".")
    suffix = f".{ext}" if ext else ""
    return validate_key(f"{namespace}/{sha256_hex[:2]}/{sha256_hex}{suffix}")


async def sha256_file(path: Path, chunk_size: int = CHUNK_SIZE) -> str:
    """Hash a file without blocking the event loop or reading it whole."""

    def digest() -> str:
        hasher = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(chunk_size):
                hasher.update(chunk)
        return hasher.hexdigest()

    return await anyio.to_thread.run_sync(digest)


async def iter_file(path: Path, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as handle:
        while chunk := await handle.read(chunk_size):
            yield chunk


@runtime_checkable
class Storage(Protocol):
    """What the rest of plyr may ask of storage. Every call is async and bounded in memory."""

    name: str

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], content_type: str | None = None
    ) -> ObjectInfo:
        """Store a stream under `key`, replacing it atomically; readers never see half."""
        ...

    def get_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Yield bytes `start..end` (inclusive, like HTTP ranges); `end=None` reads to the end."""
        ...

    async def stat(self, key: str) -> ObjectInfo | None:
        """Size and metadata, or None when there is no such object."""
        ...

    async def delete(self, key: str) -> bool:
        """Remove an object; True when it existed."""
        ...

    async def url(self, key: str, *, expires_seconds: int | None = None) -> str:
        """A URL a browser can fetch the object from."""
        ...

    async def check(self) -> None:
        """Prove the backend is reachable and writable; raise StorageUnavailable if not."""
        ...

    async def close(self) -> None: ...


async def put_file(
    storage: Storage, key: str, path: Path, content_type: str | None = None
) -> ObjectInfo:
    return await storage.put(key, iter_file(path), content_type)


async def put_content_addressed(
    storage: Storage, namespace: str, path: Path, extension: str, content_type: str | None = None
) -> tuple[ObjectInfo, bool]:
    """Store a file under its SHA-256 key; identical bytes are stored once.

    Returns the object and whether it was newly written.
    """
    key = content_key(namespace, await sha256_file(path), extension)
    existing = await storage.stat(key)
    if existing is not None and existing.size == (await anyio.Path(path).stat()).st_size:
        return existing, False
    return await put_file(storage, key, path, content_type), True
