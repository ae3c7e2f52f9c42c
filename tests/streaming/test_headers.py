"""Range parsing, ETags, HTTP dates and Content-Disposition for serving stored objects."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from plyr.serving.validators import (
    ByteRange,
    content_disposition,
    etag_matches,
    parse_http_date,
    parse_range,
    strong_etag,
)
from tests.support.stored_objects import NON_ASCII_NAME


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-99", 1000, (ByteRange(0, 99),)),
        ("bytes=500-", 1000, (ByteRange(500, 999),)),
        ("bytes=-100", 1000, (ByteRange(900, 999),)),
        ("bytes=-5000", 1000, (ByteRange(0, 999),)),
        ("bytes=0-", 1000, (ByteRange(0, 999),)),
        ("bytes=990-5000", 1000, (ByteRange(990, 999),)),
        ("BYTES = 1-2", 1000, (ByteRange(1, 2),)),
        ("bytes=0-0", 1, (ByteRange(0, 0),)),
        # Coalescing: overlapping and adjacent ranges become one.
        ("bytes=0-9,5-19", 1000, (ByteRange(0, 19),)),
        ("bytes=10-19,0-9", 1000, (ByteRange(0, 19),)),
        ("bytes=0-9, 20-29", 1000, (ByteRange(0, 9), ByteRange(20, 29))),
        ("bytes=0-9,2000-", 1000, (ByteRange(0, 9),)),  # unsatisfiable ones are dropped
        ("bytes=0-9,,", 1000, (ByteRange(0, 9),)),
        # Unsatisfiable: 416.
        ("bytes=1000-", 1000, ()),
        ("bytes=1000-2000", 1000, ()),
        ("bytes=-0", 1000, ()),
        # Ignored: 200 with the whole file.
        ("bytes=5-4", 1000, None),
        ("bytes=abc", 1000, None),
        ("bytes=-", 1000, None),
        ("bytes=1-2-3", 1000, None),
        ("items=0-9", 1000, None),
        ("bytes0-9", 1000, None),
        ("bytes=0-9", 0, None),
        ("bytes=" + ",".join(f"{i}-{i}" for i in range(0, 80, 2)), 1000, None),
        ("bytes=" + "9" * 5000 + "-", 1000, None),
    ],
)
def test_parse_range(header: str, size: int, expected: tuple[ByteRange, ...] | None) -> None:
    assert parse_range(header, size) == expected


def test_etag_matching() -> None:
    etag = '"abc-10"'
    assert etag_matches('"abc-10"', etag, weak=False)
    assert etag_matches('"x", "abc-10"', etag, weak=False)
    assert etag_matches("*", etag, weak=False)
    assert etag_matches('W/"abc-10"', etag, weak=True)
    assert not etag_matches('W/"abc-10"', etag, weak=False)
    assert not etag_matches('"abc-1"', etag, weak=True)
    assert etag_matches('"a,b", "abc-10"', etag, weak=False)  # commas inside a tag
    assert not etag_matches("abc-10", etag, weak=True)  # unquoted is not a tag


def test_http_dates() -> None:
    assert parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == 784111777
    assert parse_http_date("Sun Nov  6 08:49:37 1994") == 784111777
    assert parse_http_date("yesterday") is None
    assert parse_http_date("") is None
    assert parse_http_date(None) is None


def test_content_disposition() -> None:
    header = content_disposition(NON_ASCII_NAME)
    assert header.startswith("attachment; ")
    assert 'filename="Cafe _Umlaut_  night.mp3"' in header
    encoded = quote('Café "Ümlaut" \u2013 東京night.mp3', safe="!#$&+-.^_`|~")
    assert header.endswith(f"filename*=UTF-8''{encoded}")
    assert header.isascii()
    assert content_disposition("\x00\n") == (
        "attachment; filename=\"download\"; filename*=UTF-8''download"
    )


def test_strong_etag_depends_on_key_and_size() -> None:
    assert strong_etag("audio/aa/x.mp3", 10) == strong_etag("audio/aa/x.mp3", 10)
    assert strong_etag("audio/aa/x.mp3", 10) != strong_etag("audio/aa/y.mp3", 10)
    assert strong_etag("audio/aa/x.mp3", 10) != strong_etag("audio/aa/x.mp3", 11)
    assert strong_etag("audio/aa/x.mp3", 10).startswith('"')
