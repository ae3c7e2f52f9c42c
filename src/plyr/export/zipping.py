"""A zip made while it is read: stream-zip's generator driven from async code.

stream-zip (`stream_zip`) is a plain generator that pulls each member's bytes from an
iterable and yields the zip's bytes. Here it runs step by step in a worker thread (its CRC
and deflate work stays off the event loop); each member's bytes come from an async source
(a storage read) fetched back on the loop, one chunk at a time. Nothing holds more than a
chunk or two of any file, so memory does not grow with the size of the library.

stream-zip's own `async_stream_zip` does the same, but leaves the sources open when its
reader stops early (a client that hangs up); here the reader's `finally` closes the zip
generator in its thread, then the member sources on the loop, every time.

Members are deflated (JSON) or stored in deflate's "stored" blocks at level 0 (audio and
images, which do not compress): no second pass over a file for its CRC, as the true
"stored" method would need. `ZIP_AUTO` picks zip64 for a member only where it needs it
(over 4 GiB, or past 4 GiB into the zip), so ordinary archives open everywhere.
"""

from __future__ import annotations

import contextlib
import stat
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

import anyio
import anyio.from_thread
import anyio.to_thread
from anyio.lowlevel import current_token
from stream_zip import ZIP_AUTO, MemberFile, stream_zip

# The zip's bytes leave in pieces of about this size (storage reads are 1 MiB too).
ZIP_CHUNK = 1024 * 1024
# Zips made at once in one process: each holds a worker thread while it runs.
MAX_CONCURRENT_ZIPS = 4
FILE_MODE = stat.S_IFREG | 0o644
JSON_LEVEL = 6

T = TypeVar("T")


@dataclass(slots=True)
class Member:
    """One file of the zip: where its bytes come from and how many there are."""

    name: str
    modified: datetime
    size: int  # what the source will yield; decides zip32 or zip64
    data: AsyncIterator[bytes]
    compress: bool = False
    # Called in the zip's thread with every chunk, in order (hashing, counting).
    seen: Callable[[bytes], None] | None = None


@dataclass(slots=True)
class _Sources:
    """What the zip thread has opened, for the reader to close when it stops."""

    members: AsyncIterator[Member]
    current: list[AsyncIterator[bytes]] = field(default_factory=list)


_limiters: dict[int, anyio.CapacityLimiter] = {}


def _limiter() -> anyio.CapacityLimiter:
    """Threads for zips, counted apart from anyio's default pool: a zip thread waits on
    storage reads that use that pool, so sharing its tokens could deadlock."""
    key = id(current_token().native_token)
    if key not in _limiters:
        _limiters.clear()  # one event loop at a time (tests start several in turn)
        _limiters[key] = anyio.CapacityLimiter(MAX_CONCURRENT_ZIPS)
    return _limiters[key]


async def _next(source: AsyncIterator[T]) -> T | None:
    try:
        return await source.__anext__()
    except StopAsyncIteration:
        return None


def _pull(source: AsyncIterator[T]) -> T | None:
    """The next item of an async source, from the zip thread (None at its end)."""
    return anyio.from_thread.run(_next, source)


def _member_bytes(member: Member, sources: _Sources) -> Iterator[bytes]:
    sources.current[:] = [member.data]
    while (chunk := _pull(member.data)) is not None:
        if member.seen is not None:
            member.seen(chunk)
        yield chunk
    sources.current.clear()


def _member_files(sources: _Sources) -> Iterator[MemberFile]:
    while (member := _pull(sources.members)) is not None:
        level = JSON_LEVEL if member.compress else 0
        method = ZIP_AUTO(member.size, level=level)
        yield member.name, member.modified, FILE_MODE, method, _member_bytes(member, sources)


async def _close(source: Any) -> None:
    with contextlib.suppress(Exception):
        await source.aclose()


async def zip_stream(
    members: AsyncIterator[Member], *, chunk_size: int = ZIP_CHUNK
) -> AsyncGenerator[bytes, None]:
    """The zip of `members`, in order, as it is made. Stopping early (an exception, a
    cancelled reader, `aclose`) closes everything it opened."""
    sources = _Sources(members)
    made = stream_zip(_member_files(sources), chunk_size=chunk_size)
    zipped = cast(Generator[bytes, None, None], made)  # a generator, typed as an Iterable
    limiter = _limiter()
    try:
        while True:
            chunk = await anyio.to_thread.run_sync(next, zipped, None, limiter=limiter)
            if chunk is None:
                return
            yield chunk
    finally:
        with anyio.CancelScope(shield=True):
            # The generator is not running (each step above finished), so it can close;
            # then what it had open, on the loop where those sources live.
            await anyio.to_thread.run_sync(zipped.close, limiter=limiter)
            for source in [*sources.current, members]:
                await _close(source)
