"""Fetching the media a track record points at, to a local file.

A record names its audio (and artwork) as a blob of its author's repository, fetched from
the author's PDS with `com.atproto.sync.getBlob` (the PDS found by resolving the DID), or
as a URL. The blob is canonical; the URL is the fallback when the blob can't be had. Both
go through the guarded client (`plyr.atproto.netguard`): private addresses are refused
(loopback too, outside the development network), every redirect hop is checked again, the
body is streamed to disk and refused past a size limit, and the whole exchange has a time
limit (a server dripping one byte at a time cannot hold a worker). A blob's bytes must hash
to its CID: a PDS cannot hand over other bytes than the record names.

Failures are `SourceProblem` (permanent: asking again gets the same answer: a 4xx, a
refused address, too large, compressed though asked not to be, bytes that are not the
blob) or `SourceUnavailable` (transient: the host unreachable, 5xx, 429, a timeout).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import anyio
import httpx

from plyr.atproto.dagcbor import CODEC_RAW, CidLink, parse_cid
from plyr.atproto.identity import IdentityError
from plyr.atproto.netguard import BlockedAddress
from plyr.runtime import Runtime

CHUNK = 64 * 1024
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_ERROR_BODY = 4096
AUTHOR_PDS = "the author's PDS"


class SourceProblem(Exception):
    """The media can't be had from this source, and asking again won't change that."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SourceUnavailable(Exception):
    """The source did not answer (down, overloaded, too slow); later may work."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class MediaSource:
    """Where a record says some media is: a blob of `did`'s repository, and/or a URL."""

    did: str
    blob_cid: str | None
    url: str | None

    @property
    def empty(self) -> bool:
        return self.blob_cid is None and self.url is None


@dataclass(frozen=True, slots=True)
class Downloaded:
    path: Path
    size: int
    content_type: str | None
    origin: str  # "blob" or "url": which source answered


def blob_cid_of(value: object) -> str | None:
    """The CID of a record's blob field (`{"$type": "blob", "ref": {"$link": …}}`)."""
    if not isinstance(value, dict):
        return None
    ref = value.get("ref")
    link = ref.get("$link") if isinstance(ref, dict) else None
    return link if isinstance(link, str) else None


async def download(
    runtime: Runtime,
    source: MediaSource,
    target: Path,
    *,
    max_bytes: int,
    total_seconds: float,
    what: str = "audio",
) -> Downloaded:
    """Fetch the media to `target`: the blob first, the URL when the blob fails.

    Raises SourceProblem when every source failed for good, SourceUnavailable when one
    failed for now (a later try may work); the reason names each source's failure."""
    if source.empty:
        raise SourceProblem(f"the record names no {what}")
    failures: list[SourceProblem | SourceUnavailable] = []
    attempts: list[tuple[str, str]] = []
    if source.blob_cid is not None:
        try:
            attempts.append(("blob", await _blob_url(runtime, source.did, source.blob_cid)))
        except (SourceProblem, SourceUnavailable) as exc:
            failures.append(exc)
    if source.url is not None:
        attempts.append(("url", source.url))
    for origin, url in attempts:
        expected = source.blob_cid if origin == "blob" else None
        try:
            size, content_type = await _fetch(
                runtime, url, target, max_bytes, total_seconds, expected_cid=expected
            )
        except (SourceProblem, SourceUnavailable) as exc:
            failures.append(exc)
            continue
        return Downloaded(target, size, content_type, origin)
    reason = "; ".join(failure.reason for failure in failures)
    if any(isinstance(failure, SourceUnavailable) for failure in failures):
        raise SourceUnavailable(reason)
    raise SourceProblem(reason)


async def _blob_url(runtime: Runtime, did: str, cid: str) -> str:
    """The author's PDS's getBlob URL for the blob (the PDS from the DID document)."""
    try:
        parse_cid(cid)
    except ValueError:
        raise SourceProblem(f"the blob reference {cid[:80]!r} is not a CID") from None
    try:
        document = await runtime.identity.resolve_did(did)
    except IdentityError as exc:
        if exc.retryable:
            raise SourceUnavailable(f"the author's PDS can't be found now: {exc.message}") from exc
        raise SourceProblem(f"the author's PDS can't be found: {exc.message}") from exc
    query = urlencode({"did": did, "cid": cid})
    return f"{document.pds_url}/xrpc/com.atproto.sync.getBlob?{query}"


def _where(url: str) -> str:
    """Who answers, as a failure names it: the getBlob URL reads best as the PDS."""
    if "/xrpc/com.atproto.sync.getBlob?" in url:
        return AUTHOR_PDS
    return url if len(url) <= 200 else url[:200] + "…"


def _thing(where: str) -> str:
    """What was fetched, as a failure names it."""
    return "the record's blob" if where == AUTHOR_PDS else f"the file at {where}"


async def _fetch(
    runtime: Runtime,
    url: str,
    target: Path,
    max_bytes: int,
    total_seconds: float,
    *,
    expected_cid: str | None,
) -> tuple[int, str | None]:
    where = _where(url)
    client = runtime.http
    try:
        request = client.build_request("GET", url, headers={"Accept-Encoding": "identity"})
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise SourceProblem(f"{where} is not a URL plyr can fetch ({exc})") from None
    try:
        with anyio.fail_after(total_seconds):
            response = await client.send(request, stream=True, follow_redirects=True)
            try:
                await _check_status(response, where)
                return await _save(response, target, max_bytes, where, expected_cid)
            finally:
                await response.aclose()
    except TimeoutError:
        raise SourceUnavailable(f"{where} did not answer within {total_seconds:g} s") from None
    except BlockedAddress as exc:
        raise SourceProblem(f"{where} may not be fetched: {exc.reason}") from None
    except (httpx.UnsupportedProtocol, httpx.TooManyRedirects, httpx.InvalidURL) as exc:
        raise SourceProblem(f"{where} can't be fetched: {exc}") from None
    except httpx.TimeoutException:
        raise SourceUnavailable(f"{where} timed out") from None
    except httpx.TransportError as exc:
        raise SourceUnavailable(f"{where} can't be reached: {type(exc).__name__}") from None


async def _check_status(response: httpx.Response, where: str) -> None:
    if response.is_success:
        return
    detail = await _error_detail(response)
    asked = " for the record's blob" if where == AUTHOR_PDS else ""
    text = f"{where} answered HTTP {response.status_code}{detail}{asked}"
    if response.status_code in TRANSIENT_STATUS or response.status_code >= 500:
        raise SourceUnavailable(text)
    raise SourceProblem(text)


def _compression(response: httpx.Response) -> str:
    """The body's content coding, or "" when it is the bytes themselves."""
    encoding = str(response.headers.get("content-encoding", "")).strip().lower()
    return "" if encoding in ("", "identity") else encoding


async def _error_detail(response: httpx.Response) -> str:
    """The XRPC error of an answer (`BlobNotFound: …`), if it says one."""
    if _compression(response):
        return ""  # not inflated: it could be a bomb
    body = bytearray()
    try:
        async for chunk in response.aiter_raw():
            body += chunk
            if len(body) > MAX_ERROR_BODY:
                return ""
        data = json.loads(bytes(body))
    except (ValueError, httpx.HTTPError):
        return ""
    if not isinstance(data, dict) or not isinstance(data.get("error"), str):
        return ""
    message = str(data.get("message") or "")[:200]
    return f" ({data['error']}{': ' + message if message else ''})"


async def _save(
    response: httpx.Response,
    target: Path,
    max_bytes: int,
    where: str,
    expected_cid: str | None,
) -> tuple[int, str | None]:
    too_large = SourceProblem(f"{_thing(where)} is larger than {max_bytes / 1e6:.1f} MB")
    # Asked for identity: a compressed body could inflate far past the limit within one
    # chunk (a zip bomb), before the count below sees it; the raw bytes are what counts.
    if encoding := _compression(response):
        raise SourceProblem(f"{where} answered with a compressed body ({encoding[:40]})")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    hasher = hashlib.sha256()
    size = 0
    async with await anyio.open_file(target, "wb") as out:
        async for chunk in response.aiter_raw(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise too_large
            hasher.update(chunk)
            await out.write(chunk)
    if size == 0:
        raise SourceProblem(f"{_thing(where)} is empty")
    if expected_cid is not None and _raw_cid(hasher.digest()) != parse_cid(expected_cid):
        raise SourceProblem(f"{where} answered with other bytes than the blob's CID names")
    content_type = response.headers.get("content-type")
    return size, content_type.split(";", 1)[0].strip().lower() if content_type else None


def _raw_cid(digest: bytes) -> CidLink:
    """The CID atproto gives a blob with this SHA-256 digest (CIDv1, raw codec)."""
    return CidLink.from_raw(bytes([0x01, CODEC_RAW, 0x12, len(digest)]) + digest)
