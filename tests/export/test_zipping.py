"""The zip made while it is read (plyr.export.zipping over stream-zip): what comes out opens
with zipfile and holds exactly what went in; a reader that stops early, is cancelled or
meets a failing source leaves no source open; file names from titles are safe."""

from __future__ import annotations

import gc
import hashlib
import io
import os
import zipfile
from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import UTC, datetime

import anyio
import anyio.lowlevel
import pytest

from plyr.export.contents import safe_name
from plyr.export.zipping import Member, zip_stream

WHEN = datetime(2025, 5, 4, 3, 2, 1, tzinfo=UTC)
MIB = 1024 * 1024


class Source:
    """An async source of `size` random bytes in 1 MiB chunks that notes whether it closed."""

    def __init__(self, size: int, *, fail_after: int | None = None, delay: float = 0) -> None:
        self.data = os.urandom(size)
        self.fail_after = fail_after
        self.delay = delay
        self.opened = self.closed = False

    async def chunks(self) -> AsyncIterator[bytes]:
        self.opened = True
        try:
            for sent, start in enumerate(range(0, len(self.data), MIB)):
                if self.fail_after is not None and sent >= self.fail_after:
                    raise OSError("the disk went away")
                await anyio.sleep(self.delay) if self.delay else await anyio.lowlevel.checkpoint()
                yield self.data[start : start + MIB]
        finally:
            self.closed = True


async def _members(sources: dict[str, Source], *, compress: bool = False) -> AsyncIterator[Member]:
    for name, source in sources.items():
        yield Member(name, WHEN, len(source.data), source.chunks(), compress=compress)


async def test_what_goes_in_comes_out() -> None:
    sources = {
        "audio/a ünïcode.mp3": Source(3 * MIB + 17),
        "artwork/b.png": Source(10),
        "empty.json": Source(0),
    }
    seen = hashlib.sha256()
    members = [
        Member(
            name,
            WHEN,
            len(s.data),
            s.chunks(),
            seen=seen.update if name.startswith("audio") else None,
        )
        for name, s in sources.items()
    ]

    async def listed() -> AsyncIterator[Member]:
        for member in members:
            yield member

    chunks = [chunk async for chunk in zip_stream(listed(), chunk_size=64 * 1024)]
    assert max(len(chunk) for chunk in chunks) <= 64 * 1024
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.testzip() is None
    assert archive.namelist() == list(sources)
    for name, source in sources.items():
        assert archive.read(name) == source.data
        assert archive.getinfo(name).date_time == (2025, 5, 4, 3, 2, 0)  # DOS: 2 s steps
    assert seen.hexdigest() == hashlib.sha256(sources["audio/a ünïcode.mp3"].data).hexdigest()
    assert all(source.closed for source in sources.values())


async def test_json_is_compressed_and_media_is_not() -> None:
    text = b'{"a": 1}\n' * 50_000
    noise = os.urandom(MIB)

    async def once(data: bytes) -> AsyncIterator[bytes]:
        yield data

    async def listed() -> AsyncIterator[Member]:
        yield Member("manifest.json", WHEN, len(text), once(text), compress=True)
        yield Member("audio/x.flac", WHEN, len(noise), once(noise))

    data = b"".join([chunk async for chunk in zip_stream(listed())])
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.getinfo("manifest.json").compress_size < len(text) / 20
    assert archive.getinfo("audio/x.flac").compress_size < len(noise) * 1.01  # stored blocks
    assert archive.read("manifest.json") == text


async def test_a_reader_that_stops_early_closes_every_source() -> None:
    sources = {f"f{n}": Source(4 * MIB) for n in range(3)}
    async with aclosing(zip_stream(_members(sources))) as stream:
        async for _chunk in stream:
            if sources["f0"].opened:
                break
    assert sources["f0"].opened
    assert all(source.closed for source in sources.values() if source.opened)


async def test_a_cancelled_reader_closes_every_source() -> None:
    sources = {f"f{n}": Source(8 * MIB, delay=0.01) for n in range(3)}

    async def read_all() -> None:
        async for _chunk in zip_stream(_members(sources)):
            pass

    with anyio.move_on_after(0.05):
        await read_all()
    assert sources["f0"].opened
    assert not sources["f2"].opened
    assert all(source.closed for source in sources.values() if source.opened)


async def test_an_abandoned_reader_s_sources_close_when_it_is_collected() -> None:
    """What a web server does when the client hangs up between two chunks: it drops the
    body's iterator without closing it; the event loop's finaliser closes it."""
    sources = {f"f{n}": Source(4 * MIB) for n in range(2)}
    stream = zip_stream(_members(sources))
    async for _chunk in stream:
        if sources["f0"].opened:
            break
    del stream
    gc.collect()
    for _ in range(50):
        await anyio.sleep(0.01)
        if sources["f0"].closed:
            break
    assert sources["f0"].closed
    assert not sources["f1"].opened


async def test_a_failing_source_fails_the_zip_and_closes_the_rest() -> None:
    sources = {"ok": Source(MIB), "broken": Source(4 * MIB, fail_after=2), "never": Source(5)}
    with pytest.raises(OSError, match="the disk went away"):
        async for _chunk in zip_stream(_members(sources)):
            pass
    assert sources["broken"].closed
    assert not sources["never"].opened


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Night / Drive?", "Night Drive"),
        ("../../etc/passwd", "etc passwd"),
        ("a\x00b\nc", "a b c"),
        ("   ...   ", "track"),
        ("", "track"),
        ("ünïcode — ok", "ünïcode — ok"),
        ("x" * 300, "x" * 80),
    ],
)
def test_names_from_titles_are_safe(title: str, expected: str) -> None:
    assert safe_name(title, "track") == expected
