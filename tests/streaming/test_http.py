"""HTTP semantics of serving a stored object, in-process: ranges, validators, HEAD, 404s."""

from __future__ import annotations

import random
from email.utils import formatdate

import httpx
import pytest

from plyr.serving.validators import content_disposition, parse_http_date, strong_etag
from tests.support.stored_objects import BIG_SIZE, MIB, NON_ASCII_NAME, Objects, open_files


async def test_whole_file(client: httpx.AsyncClient, objects: Objects) -> None:
    response = await client.get(f"/o/{objects.big_key}")
    assert response.status_code == 200
    assert response.content == objects.big
    headers = response.headers
    assert headers["content-length"] == str(BIG_SIZE)
    assert headers["content-type"] == "audio/mpeg"
    assert headers["accept-ranges"] == "bytes"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["etag"] == strong_etag(objects.big_key, BIG_SIZE)
    mtime = objects.storage.path_for(objects.big_key).stat().st_mtime
    assert headers["last-modified"] == formatdate(int(mtime), usegmt=True)
    assert "content-range" not in headers
    assert "content-disposition" not in headers


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=1048570-1048590", 1048570, 1048590),  # across a chunk boundary
        (f"bytes={BIG_SIZE - 10}-", BIG_SIZE - 10, BIG_SIZE - 1),
        ("bytes=-500", BIG_SIZE - 500, BIG_SIZE - 1),
        ("bytes=0-", 0, BIG_SIZE - 1),  # what <audio> sends first
        (f"bytes=-{BIG_SIZE * 2}", 0, BIG_SIZE - 1),
        (f"bytes=100-{BIG_SIZE * 2}", 100, BIG_SIZE - 1),
        ("bytes=5-5", 5, 5),
        ("bytes=0-9,5-99", 0, 99),  # coalesced into one range
    ],
)
async def test_single_ranges(
    client: httpx.AsyncClient, objects: Objects, header: str, start: int, end: int
) -> None:
    response = await client.get(f"/o/{objects.big_key}", headers={"Range": header})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{end}/{BIG_SIZE}"
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.content == objects.big[start : end + 1]
    assert response.headers["etag"] == strong_etag(objects.big_key, BIG_SIZE)


@pytest.mark.parametrize(
    "header", [f"bytes={BIG_SIZE}-", f"bytes={BIG_SIZE + 5}-{BIG_SIZE + 9}", "bytes=-0"]
)
async def test_unsatisfiable_range(
    client: httpx.AsyncClient, objects: Objects, header: str
) -> None:
    response = await client.get(f"/o/{objects.big_key}", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{BIG_SIZE}"
    assert response.content == b""
    assert "cache-control" not in response.headers


@pytest.mark.parametrize(
    "header", ["bytes=0-9,100-109", "bytes=9-0", "pages=1-2", "bytes=x-y", "bytes=0-9;"]
)
async def test_ranges_answered_with_the_whole_file(
    client: httpx.AsyncClient, objects: Objects, header: str
) -> None:
    response = await client.get(f"/o/{objects.small_key}", headers={"Range": header})
    assert response.status_code == 200
    assert response.content == objects.small
    assert "content-range" not in response.headers


async def test_empty_object(client: httpx.AsyncClient, objects: Objects) -> None:
    for headers in ({}, {"Range": "bytes=0-"}, {"Range": "bytes=-5"}):
        response = await client.get(f"/o/{objects.empty_key}", headers=headers)
        assert response.status_code == 200
        assert response.content == b""
        assert response.headers["content-length"] == "0"


async def test_if_none_match(client: httpx.AsyncClient, objects: Objects) -> None:
    url = f"/o/{objects.small_key}"
    etag = (await client.get(url)).headers["etag"]
    for value in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        response = await client.get(url, headers={"If-None-Match": value})
        assert response.status_code == 304, value
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["cache-control"].startswith("public")
        assert "content-length" not in response.headers
    response = await client.get(url, headers={"If-None-Match": '"other"'})
    assert response.status_code == 200
    assert response.content == objects.small
    head = await client.head(url, headers={"If-None-Match": etag})
    assert head.status_code == 304
    # A Range does not matter once the validator matches.
    ranged = await client.get(url, headers={"If-None-Match": etag, "Range": "bytes=0-1"})
    assert ranged.status_code == 304


async def test_if_modified_since(client: httpx.AsyncClient, objects: Objects) -> None:
    url = f"/o/{objects.small_key}"
    last_modified = (await client.get(url)).headers["last-modified"]
    mtime = parse_http_date(last_modified)
    assert mtime is not None
    assert (await client.get(url, headers={"If-Modified-Since": last_modified})).status_code == 304
    later = formatdate(mtime + 3600, usegmt=True)
    assert (await client.get(url, headers={"If-Modified-Since": later})).status_code == 304
    earlier = formatdate(mtime - 1, usegmt=True)
    response = await client.get(url, headers={"If-Modified-Since": earlier})
    assert response.status_code == 200
    assert response.content == objects.small
    garbage = await client.get(url, headers={"If-Modified-Since": "not a date"})
    assert garbage.status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    both = await client.get(
        url, headers={"If-None-Match": '"other"', "If-Modified-Since": last_modified}
    )
    assert both.status_code == 200


async def test_if_range(client: httpx.AsyncClient, objects: Objects) -> None:
    url = f"/o/{objects.big_key}"
    first = await client.get(url, headers={"Range": "bytes=0-0"})
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    matching = await client.get(url, headers={"Range": "bytes=10-19", "If-Range": etag})
    assert matching.status_code == 206
    assert matching.content == objects.big[10:20]
    by_date = await client.get(url, headers={"Range": "bytes=10-19", "If-Range": last_modified})
    assert by_date.status_code == 206
    for stale in ('"something-else"', f"W/{etag}", "Sun, 06 Nov 1994 08:49:37 GMT", "nonsense"):
        response = await client.get(url, headers={"Range": "bytes=10-19", "If-Range": stale})
        assert response.status_code == 200, stale
        assert response.content == objects.big
        assert "content-range" not in response.headers


async def test_if_match_and_if_unmodified_since(
    client: httpx.AsyncClient, objects: Objects
) -> None:
    url = f"/o/{objects.small_key}"
    first = await client.get(url)
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert (await client.get(url, headers={"If-Match": etag})).status_code == 200
    assert (await client.get(url, headers={"If-Match": '"nope"'})).status_code == 412
    assert (await client.get(url, headers={"If-Match": f"W/{etag}"})).status_code == 412
    ok = await client.get(url, headers={"If-Unmodified-Since": last_modified})
    assert ok.status_code == 200
    stale = await client.get(url, headers={"If-Unmodified-Since": "Sun, 06 Nov 1994 08:49:37 GMT"})
    assert stale.status_code == 412


async def test_head(client: httpx.AsyncClient, objects: Objects) -> None:
    url = f"/o/{objects.big_key}"
    response = await client.head(url)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(BIG_SIZE)
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == strong_etag(objects.big_key, BIG_SIZE)
    # Range is defined for GET only; a HEAD describes the whole representation.
    ranged = await client.head(url, headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 200
    assert ranged.headers["content-length"] == str(BIG_SIZE)


async def test_download_name(client: httpx.AsyncClient, objects: Objects) -> None:
    response = await client.get(f"/o/{objects.small_key}", params={"download": NON_ASCII_NAME})
    assert response.status_code == 200
    assert response.headers["content-disposition"] == content_disposition(NON_ASCII_NAME)
    assert (
        "filename*=UTF-8''Caf%C3%A9%20%22%C3%9Cmlaut%22" in response.headers["content-disposition"]
    )


async def test_mutable_objects_revalidate(client: httpx.AsyncClient, objects: Objects) -> None:
    response = await client.get(f"/o/{objects.small_key}", params={"mutable": "1"})
    assert response.headers["cache-control"] == "no-cache"
    stat = objects.storage.path_for(objects.small_key).stat()
    assert response.headers["etag"] == f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
    again = await client.get(
        f"/o/{objects.small_key}",
        params={"mutable": "1"},
        headers={"If-None-Match": response.headers["etag"]},
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    "key", ["audio/00/missing.mp3", "audio", "audio/..%2f..%2fetc/passwd", "Audio/X.mp3"]
)
async def test_missing_or_invalid_keys(
    client: httpx.AsyncClient, objects: Objects, key: str
) -> None:
    before = open_files(objects)
    response = await client.get(f"/o/{key}", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    head = await client.head(f"/o/{key}")
    assert head.status_code == 404
    page = await client.get(f"/o/{key}", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]
    assert open_files(objects) == before


async def test_random_ranges_are_byte_exact(client: httpx.AsyncClient, objects: Objects) -> None:
    rng = random.Random(20240611)
    for _ in range(50):
        start = rng.randrange(BIG_SIZE)
        end = min(BIG_SIZE - 1, start + rng.randrange(1, 3 * MIB))
        response = await client.get(
            f"/o/{objects.big_key}", headers={"Range": f"bytes={start}-{end}"}
        )
        assert response.status_code == 206
        assert response.content == objects.big[start : end + 1]


async def test_no_descriptor_is_leaked(client: httpx.AsyncClient, objects: Objects) -> None:
    before = open_files(objects)
    url = f"/o/{objects.big_key}"
    for headers in (
        {},
        {"Range": "bytes=0-10"},
        {"Range": f"bytes={BIG_SIZE}-"},
        {"If-None-Match": "*"},
        {"If-Match": '"x"'},
    ):
        await client.get(url, headers=headers)
    await client.head(url)
    assert open_files(objects) == before
