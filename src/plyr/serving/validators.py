"""HTTP semantics of serving a file, as pure functions: byte ranges (RFC 9110 §14), entity
tags and dates, the order of conditional requests (§13.2.2), and Content-Disposition
(RFC 6266). `serve.py` applies them; nothing here touches a file or a socket."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from email.utils import formatdate, mktime_tz, parsedate_tz
from urllib.parse import quote

MAX_RANGES = 32  # more ranges than this in one header are ignored (whole file, 200)

_ETAG_RE = re.compile(r'(W/)?("[^"]*")')
_RANGE_SPEC_RE = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


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


@functools.lru_cache(maxsize=1024)
def http_date(timestamp: float) -> str:
    """Cached: a file's Last-Modified is formatted for each of its answers."""
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


@functools.lru_cache(maxsize=4096)
def strong_etag(key: str, size: int) -> str:
    """Content-addressed keys never change meaning, so the key (and size) is the validator."""
    digest = hashlib.blake2b(key.encode(), digest_size=12).hexdigest()
    return f'"{digest}-{size:x}"'


def preconditions(
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


def if_range_holds(value: str, etag: str, modified: int) -> bool:
    """An If-Range entity tag must match strongly; a date must equal Last-Modified exactly."""
    value = value.strip()
    if value.startswith(('"', "W/")):
        return not value.startswith("W/") and value == etag
    return parse_http_date(value) == modified
