"""Serving stored objects over HTTP: `serve_object` is the one entry point.

Three ways to answer, picked from the storage backend and `PLYR_MEDIA_OFFLOAD`:

- **Local files, served by plyr** (the embedded default). Full HTTP semantics: one byte
  range (`bytes=a-b`, `bytes=a-`, `bytes=-n`) gets 206, an unsatisfiable one 416; strong
  ETag and Last-Modified; If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since
  and If-Range in the order RFC 9110 §13.2.2 gives; HEAD. Bytes leave through a small ASGI
  response that never holds more than one chunk of the file in memory:
  - `http.response.pathsend` when the server offers it and the answer is the whole file
    (granian: the server sends the file itself);
  - `http.response.zerocopysend` when offered, for whole files and ranges alike;
  - otherwise `pread` from one descriptor in chunks of up to 1 MiB. A read of at most
    `INLINE_READ_MAX` (256 KiB) first tries `preadv(RWF_NOWAIT)` on the event loop: the
    kernel copies from the page cache or says EAGAIN without touching the disk, so a
    cached 256 KiB read costs ~11-20 µs instead of a 40-100 µs hop to a worker thread
    (more under load, where the hop queues for the GIL). What is not cached goes to a
    thread; so do the 1 MiB chunks of long responses, whose copy then runs on another core
    while the loop writes to sockets. Measured with bench/stream.py (uvicorn, 1 worker,
    50 connections): random 256 KB ranges 2,900 req/s inline vs 2,000 with every read in
    a thread (Starlette's FileResponse: 750); first 64 KB p50 8.5 ms vs 18 ms; whole 8 MB
    files 1,800 MB/s with threaded 1 MiB chunks vs 1,500-1,700 inline, and a p99 of
    0.35 s instead of 0.7-3 s. Where RWF_NOWAIT does not exist, every read uses a thread.
    Between chunks the response yields to the loop, or one fast client could hold it for
    a whole file (a cached read never suspends, and send() only does on a full socket).

- **Local files, sent by the proxy** (`x-accel-redirect` for nginx, `x-sendfile` for Apache
  or lighttpd): an empty 200 naming the file; the proxy sends the bytes and answers ranges
  and conditional requests itself, with its own validators, so plyr does not evaluate them.

- **Any other backend (S3)**: a 307 redirect to `storage.url(key)` (presigned, or the public
  base URL), cacheable by the browser for well under the presign lifetime. HEAD is answered
  from `storage.stat` instead, because a URL presigned for GET refuses HEAD. GET does not
  stat first: that would cost a round trip to S3 per play, and a missing key gets S3's 404.

Multiple ranges (`bytes=0-1,5-9`) are coalesced when they overlap or touch; if one span is
left it gets a normal 206, otherwise the whole file is sent with 200, as RFC 9110 §14.2
allows. Media players never ask for several ranges; multipart/byteranges is not worth it.

File metadata (`open`, `fstat`) is read on the event loop: it is a few microseconds when
the inode is cached, which for objects being served it nearly always is, and a thread hop
would cost more than the whole 256 KiB range read does.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import re
import stat
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import formatdate, mktime_tz, parsedate_tz
from pathlib import Path
from typing import Literal
from urllib.parse import quote

import anyio
import anyio.lowlevel
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from plyr.storage.base import Storage
from plyr.web.errors import ApiError

CHUNK_SIZE = 1024 * 1024
# Reads up to this size are tried on the event loop with RWF_NOWAIT; larger ones use a thread.
# bench/stream.py measures the choice (`--inline-read-max`); see the module docstring.
INLINE_READ_MAX = 256 * 1024
MAX_RANGES = 32  # more ranges than this in one header are ignored (whole file, 200)
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
REVALIDATE_CACHE = "no-cache"
REDIRECT_CACHE_FRACTION = 4  # cache an S3 redirect for a quarter of the presign lifetime
REDIRECT_CACHE_MAX_SECONDS = 3600
PUBLIC_REDIRECT_CACHE_SECONDS = 86400

OffloadMode = Literal["none", "x-accel-redirect", "x-sendfile"]

_RWF_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None) if hasattr(os, "preadv") else None
_O_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
_ETAG_RE = re.compile(r'(W/)?("[^"]*")')
_RANGE_SPEC_RE = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


# --- ranges and validators (pure functions) ----------------------------------------------


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Inclusive `start..end`, as HTTP writes it."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


UNSATISFIABLE: tuple[ByteRange, ...] = ()


def parse_range(header: str, size: int) -> tuple[ByteRange, ...] | None:
    """The ranges of a `Range` header, clamped to `size` and coalesced.

    None means "ignore the header and send the whole file": another unit, a malformed
    header, too many ranges, or an empty file. An empty tuple means no range is
    satisfiable (416). Otherwise the satisfiable ranges, sorted, overlapping or adjacent
    ones merged.
    """
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip().lower() != "bytes" or size <= 0:
        return None
    parts = spec.split(",")
    if len(parts) > MAX_RANGES:
        return None
    found: list[ByteRange] = []
    for part in parts:
        if not part.strip():
            continue  # RFC 9110 list syntax tolerates empty elements
        match = _RANGE_SPEC_RE.match(part)
        if match is None:
            return None
        first, last = match.groups()
        try:
            if first:
                start = int(first)
                end = int(last) if last else size - 1
                if last and end < start:
                    return None  # invalid, not merely unsatisfiable
                if start >= size:
                    continue
                found.append(ByteRange(start, min(end, size - 1)))
            elif last:
                suffix = int(last)
                if suffix > 0:
                    found.append(ByteRange(max(size - suffix, 0), size - 1))
            else:
                return None
        except ValueError:  # digits beyond int()'s limit
            return None
    if not found:
        return UNSATISFIABLE
    found.sort(key=lambda r: r.start)
    merged = [found[0]]
    for item in found[1:]:
        last_range = merged[-1]
        if item.start <= last_range.end + 1:
            merged[-1] = ByteRange(last_range.start, max(last_range.end, item.end))
        else:
            merged.append(item)
    return tuple(merged)


def parse_http_date(value: str | None) -> int | None:
    """Seconds since the epoch, or None for an absent or unparseable date."""
    if not value:
        return None
    parsed = parsedate_tz(value)
    if parsed is None:
        return None
    try:
        return mktime_tz(parsed)
    except (OverflowError, ValueError):
        return None


def http_date(timestamp: float) -> str:
    return formatdate(timestamp, usegmt=True)


def _entity_tags(header: str) -> list[tuple[bool, str]]:
    """`(weak, opaque-tag)` pairs of an If-Match / If-None-Match list."""
    return [(bool(weak), tag) for weak, tag in _ETAG_RE.findall(header)]


def etag_matches(header: str, etag: str, *, weak: bool) -> bool:
    """Whether a list of entity tags (or `*`) matches ours; strong comparison unless `weak`."""
    if header.strip() == "*":
        return True
    ours = etag.removeprefix("W/")
    ours_weak = etag.startswith("W/")
    for their_weak, tag in _entity_tags(header):
        if tag != ours:
            continue
        if weak or not (their_weak or ours_weak):
            return True
    return False


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """`attachment; filename="ascii"; filename*=UTF-8''…` (RFC 6266), safe for any name."""
    cleaned = "".join(
        ch for ch in filename if unicodedata.category(ch)[0] != "C" and ch not in "/\\"
    ).strip()
    cleaned = cleaned or "download"
    fallback = unicodedata.normalize("NFKD", cleaned).encode("ascii", "ignore").decode()
    fallback = re.sub(r'["\\]', "_", fallback).strip() or "download"
    encoded = quote(cleaned, safe="!#$&+-.^_`|~")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def strong_etag(key: str, size: int) -> str:
    """Content-addressed keys never change meaning, so the key (and size) is the validator."""
    digest = hashlib.blake2b(key.encode(), digest_size=12).hexdigest()
    return f'"{digest}-{size:x}"'


# --- the response that sends a file ------------------------------------------------------


class FileRangeResponse(Response):
    """Sends `length` bytes of an open file from `start`; owns and closes the descriptor."""

    def __init__(
        self,
        *,
        fd: int,
        path: Path,
        status_code: int,
        headers: list[tuple[bytes, bytes]],
        start: int,
        length: int,
        whole: bool,
    ) -> None:
        # Starlette's Response.__init__ would render a body; only its attributes are needed.
        self.status_code = status_code
        self.raw_headers = headers
        self.background = None
        self.body = b""
        self._fd: int | None = fd
        self._path = path
        self._start = start
        self._length = length
        self._whole = whole
        self._nowait = _RWF_NOWAIT is not None

    def _close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __del__(self) -> None:
        # A response built but never sent (an error after serve_object) must not leak its fd.
        self._close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._send(scope, receive, send)
        finally:
            self._close()
        if self.background is not None:
            await self.background()

    async def _send(self, scope: Scope, receive: Receive, send: Send) -> None:
        fd = self._fd
        assert fd is not None, "a FileRangeResponse can be sent once"
        extensions = scope.get("extensions") or {}
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        if self._length == 0:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        if self._whole and "http.response.pathsend" in extensions:
            await send({"type": "http.response.pathsend", "path": str(self._path)})
            return
        if "http.response.zerocopysend" in extensions:
            # Wraps the open fd: no file system access here.
            with io.FileIO(fd, "rb", closefd=False) as file:
                await send(
                    {
                        "type": "http.response.zerocopysend",
                        "file": file,
                        "offset": self._start,
                        "count": self._length,
                        "more_body": False,
                    }
                )
            return
        spec = str(scope.get("asgi", {}).get("spec_version", "2.0"))
        # ASGI 2.4 servers raise OSError from send() once the client is gone; older ones
        # drop the message silently, so a watcher has to notice the disconnect instead, or
        # a closed tab would still have the whole file read.
        if tuple(int(part) for part in spec.split(".")[:2]) >= (2, 4):
            with contextlib.suppress(_ClientGone):
                await self._send_chunks(fd, send)
        elif self._length <= CHUNK_SIZE:
            await self._send_chunks(fd, send)
        else:
            async with anyio.create_task_group() as group:
                group.start_soon(_cancel_on_disconnect, receive, group.cancel_scope)
                await self._send_chunks(fd, send)
                group.cancel_scope.cancel()

    async def _send_chunks(self, fd: int, send: Send) -> None:
        offset, remaining = self._start, self._length
        while remaining > 0:
            size = min(CHUNK_SIZE, remaining)
            data = await self._read(fd, offset, size)
            if len(data) < size:
                # Content-Length is out already; the file shrank. Closing the connection
                # (the server does it on an exception) is the only honest answer left.
                raise RuntimeError(f"{self._path} ended {remaining - len(data)} bytes early")
            offset += size
            remaining -= size
            message = {"type": "http.response.body", "body": data, "more_body": remaining > 0}
            try:
                await send(message)
            except OSError as exc:
                raise _ClientGone from exc
            if remaining > 0:
                await anyio.lowlevel.checkpoint()  # fairness: see the module docstring

    async def _read(self, fd: int, offset: int, size: int) -> bytes:
        if not self._nowait or size > INLINE_READ_MAX:
            return await anyio.to_thread.run_sync(os.pread, fd, size, offset)
        assert _RWF_NOWAIT is not None
        buffer = bytearray(size)
        try:
            got = os.preadv(fd, [buffer], offset, _RWF_NOWAIT)
        except BlockingIOError:
            got = 0
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise
            self._nowait = False  # this file system cannot say; use threads from now on
            got = 0
        if got == size:
            return bytes(buffer)
        # Not (all) in the page cache: the rest comes from the disk, off the event loop.
        rest = await anyio.to_thread.run_sync(os.pread, fd, size - got, offset + got)
        return bytes(buffer[:got]) + rest if got else rest


class _ClientGone(Exception):
    """send() raised: the client disconnected (ASGI 2.4)."""


async def _cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


class _HeadersOnly(Response):
    """A response without a body whose headers are given exactly (no added Content-Length)."""

    def __init__(self, status_code: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.status_code = status_code
        self.raw_headers = headers
        self.background = None
        self.body = b""


# --- the entry point ---------------------------------------------------------------------


def _offload_settings(request: Request) -> tuple[OffloadMode, str]:
    settings = getattr(request.app.state, "settings", None)
    if settings is None:
        return "none", "/"
    return settings.media_offload, settings.media_offload_prefix


def _not_found() -> ApiError:
    return ApiError(404, "not_found", "there is nothing at this address")


async def serve_object(
    request: Request,
    storage: Storage,
    key: str,
    *,
    content_type: str,
    download_name: str | None = None,
    immutable: bool = True,
) -> Response:
    """Answer a GET or HEAD for the stored object `key` (see the module docstring).

    `content_type` is sent as is; `download_name` makes it a download
    (`Content-Disposition: attachment`); `immutable` says the key is content-addressed, so
    the answer may be cached for a year and the key itself is the ETag.
    Raises `ApiError(404)` when the object does not exist.
    """
    path_for = getattr(storage, "path_for", None)
    if path_for is None:
        return await _redirect(
            request, storage, key, content_type=content_type, immutable=immutable
        )
    try:
        path: Path = path_for(key)
    except ValueError:
        raise _not_found() from None

    common: list[tuple[bytes, bytes]] = [
        (b"content-type", content_type.encode("latin-1")),
        (b"cache-control", (IMMUTABLE_CACHE if immutable else REVALIDATE_CACHE).encode()),
    ]
    if download_name is not None:
        common.append((b"content-disposition", content_disposition(download_name).encode()))

    mode, prefix = _offload_settings(request)
    if mode != "none":
        return _offload(path, key, mode, prefix, common, immutable=immutable)

    method = request.method
    fd: int | None = None
    try:
        if method == "GET":
            fd = os.open(path, _O_FLAGS)
            info = os.fstat(fd)
        else:
            info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        raise _not_found() from None
    try:
        if not stat.S_ISREG(info.st_mode):
            raise _not_found()
        response = _file_response(request, path, key, fd, info, common, immutable=immutable)
    except BaseException:
        if fd is not None:
            os.close(fd)
        raise
    return response


def _file_response(
    request: Request,
    path: Path,
    key: str,
    fd: int | None,
    info: os.stat_result,
    common: list[tuple[bytes, bytes]],
    *,
    immutable: bool,
) -> Response:
    """Evaluate preconditions and Range; hand the fd to the response or close it."""
    size = info.st_size
    modified = int(info.st_mtime)
    etag = strong_etag(key, size) if immutable else f'"{size:x}-{info.st_mtime_ns:x}"'
    validators = [
        (b"etag", etag.encode()),
        (b"last-modified", http_date(modified).encode()),
    ]
    headers = request.headers
    status = _preconditions(
        headers.get("if-match"),
        headers.get("if-unmodified-since"),
        headers.get("if-none-match"),
        headers.get("if-modified-since"),
        etag,
        modified,
        request.method,
    )
    if status is not None:
        if fd is not None:
            os.close(fd)
        kept = validators + [h for h in common if h[0] == b"cache-control"]
        return _HeadersOnly(status, kept if status == 304 else [(b"content-length", b"0")])

    ranges: Sequence[ByteRange] | None = None
    range_header = headers.get("range")
    if range_header is not None and request.method == "GET":
        if_range = headers.get("if-range")
        if if_range is None or _if_range_holds(if_range, etag, modified):
            ranges = parse_range(range_header, size)
    base = [*common, (b"accept-ranges", b"bytes"), *validators]

    if ranges is not None and len(ranges) == 0:
        if fd is not None:
            os.close(fd)
        # No Content-Type or Cache-Control: the answer has no body and should not be cached.
        return _HeadersOnly(
            416,
            [
                (b"accept-ranges", b"bytes"),
                *validators,
                (b"content-range", f"bytes */{size}".encode()),
                (b"content-length", b"0"),
            ],
        )
    if ranges is not None and len(ranges) == 1:
        chosen, status_code = ranges[0], 206
        base.append((b"content-range", f"bytes {chosen.start}-{chosen.end}/{size}".encode()))
    else:
        chosen, status_code = ByteRange(0, size - 1), 200
    base.append((b"content-length", str(chosen.length).encode()))
    if fd is None:  # HEAD
        return _HeadersOnly(status_code, base)
    return FileRangeResponse(
        fd=fd,
        path=path,
        status_code=status_code,
        headers=base,
        start=chosen.start,
        length=chosen.length,
        whole=status_code == 200,
    )


def _preconditions(
    if_match: str | None,
    if_unmodified_since: str | None,
    if_none_match: str | None,
    if_modified_since: str | None,
    etag: str,
    modified: int,
    method: str,
) -> int | None:
    """RFC 9110 §13.2.2: 412, 304, or None to go on."""
    if if_match is not None:
        if not etag_matches(if_match, etag, weak=False):
            return 412
    else:
        since = parse_http_date(if_unmodified_since)
        if since is not None and modified > since:
            return 412
    if if_none_match is not None:
        if etag_matches(if_none_match, etag, weak=True):
            return 304 if method in ("GET", "HEAD") else 412
    elif method in ("GET", "HEAD"):
        since = parse_http_date(if_modified_since)
        if since is not None and modified <= since:
            return 304
    return None


def _if_range_holds(value: str, etag: str, modified: int) -> bool:
    """An If-Range entity tag must match strongly; a date must equal Last-Modified exactly."""
    value = value.strip()
    if value.startswith(('"', "W/")):
        return not value.startswith("W/") and value == etag
    return parse_http_date(value) == modified


def _offload(
    path: Path,
    key: str,
    mode: OffloadMode,
    prefix: str,
    common: list[tuple[bytes, bytes]],
    *,
    immutable: bool,
) -> Response:
    """Name the file for the proxy; it sends the bytes and handles ranges and validators."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise _not_found() from None
    if not stat.S_ISREG(info.st_mode):
        raise _not_found()
    etag = (
        strong_etag(key, info.st_size) if immutable else f'"{info.st_size:x}-{info.st_mtime_ns:x}"'
    )
    headers = [
        *common,
        (b"accept-ranges", b"bytes"),
        (b"etag", etag.encode()),
        (b"last-modified", http_date(int(info.st_mtime)).encode()),
    ]
    if mode == "x-accel-redirect":
        headers.append((b"x-accel-redirect", f"{prefix}{key}".encode()))
    else:
        headers.append((b"x-sendfile", os.fsencode(path)))
    headers.append((b"content-length", b"0"))
    return _HeadersOnly(200, headers)


async def _redirect(
    request: Request, storage: Storage, key: str, *, content_type: str, immutable: bool
) -> Response:
    """S3 and friends: send the browser to the object's own URL (GET), or describe it (HEAD)."""
    if request.method == "HEAD":
        try:
            info = await storage.stat(key)
        except ValueError:
            info = None
        if info is None:
            raise _not_found()
        headers = [
            (b"content-type", content_type.encode("latin-1")),
            (b"accept-ranges", b"bytes"),
            (b"content-length", str(info.size).encode()),
        ]
        if info.etag:
            headers.append((b"etag", info.etag.encode("latin-1")))
        if info.last_modified is not None:
            headers.append((b"last-modified", http_date(info.last_modified.timestamp()).encode()))
        return _HeadersOnly(200, headers)
    try:
        url = await storage.url(key)
    except ValueError:
        raise _not_found() from None
    presign_seconds = getattr(storage, "presign_seconds", None)
    public = getattr(storage, "public_base_url", None)
    if public and immutable:
        cache = f"public, max-age={PUBLIC_REDIRECT_CACHE_SECONDS}"
    else:
        lifetime = presign_seconds if isinstance(presign_seconds, int) else 3600
        max_age = min(lifetime // REDIRECT_CACHE_FRACTION, REDIRECT_CACHE_MAX_SECONDS)
        cache = f"private, max-age={max_age}"
    return _HeadersOnly(
        307,
        [
            (b"location", url.encode("latin-1")),
            (b"cache-control", cache.encode()),
            (b"content-length", b"0"),
        ],
    )
