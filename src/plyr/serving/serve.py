"""Serving stored objects over HTTP: `serve_object` is the one entry point.

Three ways to answer, picked from the storage backend and `PLYR_MEDIA_OFFLOAD`:

- **Local files, served by plyr** (the embedded default). Full HTTP semantics: one byte
  range (`bytes=a-b`, `bytes=a-`, `bytes=-n`) gets 206, an unsatisfiable one 416; strong
  ETag and Last-Modified; If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since
  and If-Range in the order RFC 9110 §13.2.2 gives; HEAD. Bytes leave through a small ASGI
  response that never holds more than one chunk of the file in memory:
  - `http.response.pathsend` when the server offers it and the answer is the whole file,
    as a 200 or as the 206 of `bytes=0-` (granian: the server reads and sends the file
    itself, off the event loop; it has no ranges, so other ranges take the paths below);
  - `http.response.zerocopysend` when offered, for whole files and ranges alike;
  - otherwise `pread` from one descriptor in chunks of up to 1 MiB. A read of at most
    `INLINE_READ_MAX` (256 KiB) first tries `preadv(RWF_NOWAIT)` on the event loop: the
    kernel copies from the page cache or says EAGAIN without touching the disk, so a
    cached 256 KiB read costs ~11-20 µs instead of a 40-100 µs hop to a worker thread
    (more under load, where the hop queues for the GIL). What is not cached goes to a
    thread; so do the 1 MiB chunks of long responses, whose copy then runs on another core
    while the loop writes to sockets. Measured with an earlier bench/stream.py (uvicorn,
    1 worker, 50 connections, `--inline-read-max`): random 256 KB ranges 2,900 req/s
    inline vs 2,000 with every read in a thread (Starlette's FileResponse: 750); first
    64 KB p50 8.5 ms vs 18 ms; whole 8 MB files 1,800 MB/s with threaded 1 MiB chunks vs
    1,500-1,700 inline, and a p99 of 0.35 s instead of 0.7-3 s. An inline read is sent as
    the bytearray it was read into (one 256 KiB copy less). Where RWF_NOWAIT does not
    exist, every read uses a thread.
    Between chunks the response yields to the loop, or one fast client could hold it for
    a whole file (a cached read never suspends, and send() only does on a full socket).

- **Local files, sent by the proxy** (`x-accel-redirect` for nginx, `x-sendfile` for Apache
  or lighttpd): an empty 200 naming the file; the proxy sends the bytes and answers ranges
  and conditional requests itself, with its own validators, so plyr does not evaluate them.

- **Any other backend (S3)**: a 307 redirect to `storage.url(key)` (presigned, or the public
  base URL; 303 for a form POST, so its body is not sent on), cacheable by the browser for
  well under the presign lifetime. HEAD is answered from `storage.stat` instead, because a
  URL presigned for GET refuses HEAD. GET does not stat first: that would cost a round trip
  to S3 per play, and a missing key gets S3's 404.

Multiple ranges (`bytes=0-1,5-9`) are coalesced when they overlap or touch; if one span is
left it gets a normal 206, otherwise the whole file is sent with 200, as RFC 9110 §14.2
allows. Media players never ask for several ranges; multipart/byteranges is not worth it.

File metadata (`open`, `fstat`) is read on the event loop: it is a few microseconds when
the inode is cached, which for objects being served it nearly always is, and a thread hop
would cost more than the whole 256 KiB range read does.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

from plyr.errors import ServiceError
from plyr.serving.file_response import FileRangeResponse, HeadersOnly
from plyr.serving.validators import (
    ByteRange,
    content_disposition,
    http_date,
    if_range_holds,
    parse_range,
    preconditions,
    strong_etag,
)
from plyr.storage.base import Storage

IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
REVALIDATE_CACHE = "no-cache"
REDIRECT_CACHE_FRACTION = 4  # cache an S3 redirect for a quarter of the presign lifetime
REDIRECT_CACHE_MAX_SECONDS = 3600
PUBLIC_REDIRECT_CACHE_SECONDS = 86400

OffloadMode = Literal["none", "x-accel-redirect", "x-sendfile"]

_O_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)


def _offload_settings(request: Request) -> tuple[OffloadMode, str]:
    settings = getattr(request.app.state, "settings", None)
    if settings is None:
        return "none", "/"
    return settings.media_offload, settings.media_offload_prefix


def _read_method(request: Request) -> str:
    """HEAD, or GET for any other method: Subsonic players ask for bytes with a form POST
    (credentials in the body), which reads exactly as a GET does."""
    return "HEAD" if request.method == "HEAD" else "GET"


# The request headers a file answer reads: found in one pass over the raw list (a
# Starlette `Headers` lookup scans and decodes the whole list each time).
_CONDITIONAL = frozenset(
    {
        b"if-match",
        b"if-unmodified-since",
        b"if-none-match",
        b"if-modified-since",
        b"range",
        b"if-range",
    }
)


def _conditional_headers(request: Request) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in request.scope["headers"]:
        lower = name.lower()
        if lower in _CONDITIONAL and lower.decode() not in found:
            found[lower.decode()] = value.decode("latin-1")
    return found


def _not_found() -> ServiceError:
    return ServiceError(404, "not_found", "there is nothing at this address")


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
    Raises `ServiceError(404)` when the object does not exist.
    """
    # `file_path` (a string) where the storage has it: cheaper than `path_for`'s Path.
    path_for = getattr(storage, "file_path", None) or getattr(storage, "path_for", None)
    if path_for is None:
        return await _redirect(
            request, storage, key, content_type=content_type, immutable=immutable
        )
    try:
        path: str | Path = path_for(key)
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

    method = _read_method(request)
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
    path: str | Path,
    key: str,
    fd: int | None,
    info: os.stat_result,
    common: list[tuple[bytes, bytes]],
    *,
    immutable: bool,
) -> Response:
    """Evaluate preconditions and Range; hand the fd to the response or close it."""
    method = _read_method(request)
    size = info.st_size
    modified = int(info.st_mtime)
    etag = strong_etag(key, size) if immutable else f'"{size:x}-{info.st_mtime_ns:x}"'
    validators = [
        (b"etag", etag.encode()),
        (b"last-modified", http_date(modified).encode()),
    ]
    headers = _conditional_headers(request)
    status = preconditions(
        headers.get("if-match"),
        headers.get("if-unmodified-since"),
        headers.get("if-none-match"),
        headers.get("if-modified-since"),
        etag,
        modified,
        method,
    )
    if status is not None:
        if fd is not None:
            os.close(fd)
        kept = validators + [h for h in common if h[0] == b"cache-control"]
        return HeadersOnly(status, kept if status == 304 else [(b"content-length", b"0")])

    ranges: Sequence[ByteRange] | None = None
    range_header = headers.get("range")
    if range_header is not None and method == "GET":
        if_range = headers.get("if-range")
        if if_range is None or if_range_holds(if_range, etag, modified):
            ranges = parse_range(range_header, size)
    base = [*common, (b"accept-ranges", b"bytes"), *validators]

    if ranges is not None and len(ranges) == 0:
        if fd is not None:
            os.close(fd)
        # No Content-Type or Cache-Control: the answer has no body and should not be cached.
        return HeadersOnly(
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
        return HeadersOnly(status_code, base)
    return FileRangeResponse(
        fd=fd,
        path=path,
        status_code=status_code,
        headers=base,
        start=chosen.start,
        length=chosen.length,
        # `bytes=0-` (what <audio> asks first) is the whole file too: pathsend can send it.
        whole=chosen.start == 0 and chosen.length == size,
    )


def _offload(
    path: str | Path,
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
    return HeadersOnly(200, headers)


async def _redirect(
    request: Request, storage: Storage, key: str, *, content_type: str, immutable: bool
) -> Response:
    """S3 and friends: send the browser to the object's own URL (GET), or describe it (HEAD)."""
    if _read_method(request) == "HEAD":
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
        return HeadersOnly(200, headers)
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
    return HeadersOnly(
        # A form POST (a Subsonic player's) is sent on with 303: the client follows with a
        # GET and keeps its body, credentials included, to itself. 307 would re-post it.
        307 if request.method == "GET" else 303,
        [
            (b"location", url.encode("latin-1")),
            (b"cache-control", cache.encode()),
            (b"content-length", b"0"),
        ],
    )
