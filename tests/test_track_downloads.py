"""The guarded download of a track record's media (`plyr.tracks.downloads`) against a real
local HTTP server: the size limit holds while streaming (no Content-Length to trust), a
slow or silent server is cut off by the total time limit, a compressed body is refused
(it could inflate past any limit), and private addresses are refused, on a redirect hop
too. Permanent failures are SourceProblem, transient ones SourceUnavailable."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plyr.atproto.devnet import Network
from plyr.runtime import Runtime
from plyr.tracks.downloads import MediaSource, SourceProblem, SourceUnavailable, download
from tests.conftest import devnet_settings
from tests.support.local_http import LocalServer, server  # noqa: F401  (the fixture)

LIMIT = 10_000
DID = "did:plc:downloadsaaaaaaaaaaaaaaa"


@pytest.fixture
async def runtime(atproto_net: Network, db_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    # The development network's guard: loopback (the local server) allowed, private not.
    opened = Runtime.open(devnet_settings(tmp_path, db_url, atproto_net, jobs_enabled=False))
    yield opened
    await opened.close()


def _url(url: str) -> MediaSource:
    return MediaSource(DID, None, url)


async def test_limits_hold_while_streaming(
    runtime: Runtime,
    server: LocalServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    body = bytes(range(256)) * 100  # 25 600 bytes
    server.route("/fits.mp3", body=body[:LIMIT], chunked=True)
    got = await download(
        runtime, _url(f"{server.url}/fits.mp3"), tmp_path / "fits", max_bytes=LIMIT, total_seconds=5
    )
    assert (got.size, got.origin, got.path.read_bytes()) == (LIMIT, "url", body[:LIMIT])

    # Chunked: no length declared, the count while reading stops it.
    server.route("/big.mp3", body=body, chunked=True)
    with pytest.raises(SourceProblem, match=r"the file at .*/big.mp3 is larger than 0\.0 MB"):
        await download(
            runtime,
            _url(f"{server.url}/big.mp3"),
            tmp_path / "big",
            max_bytes=LIMIT,
            total_seconds=5,
        )
    server.route("/silent.mp3", hang=True)
    server.route("/drip.mp3", body=body[:400], drip_seconds=0.05)
    for path in ("/silent.mp3", "/drip.mp3"):
        with pytest.raises(SourceUnavailable, match=r"did not answer within 0\.5 s"):
            await download(
                runtime,
                _url(f"{server.url}{path}"),
                tmp_path / "slow",
                max_bytes=LIMIT,
                total_seconds=0.5,
            )
    # Asked for identity: a compressed body (which could inflate past any limit) is refused.
    zipped = gzip.compress(bytes(LIMIT * 100))
    assert len(zipped) < LIMIT
    server.route("/zipped.mp3", body=zipped, headers={"Content-Encoding": "gzip"})
    with pytest.raises(SourceProblem, match=r"compressed body \(gzip\)"):
        await download(
            runtime,
            _url(f"{server.url}/zipped.mp3"),
            tmp_path / "zipped",
            max_bytes=LIMIT,
            total_seconds=5,
        )


async def test_private_addresses_are_refused_on_every_hop(
    runtime: Runtime,
    server: LocalServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    private = "http://10.1.2.3/song.mp3"
    with pytest.raises(SourceProblem, match=r"may not be fetched: 10\.1\.2\.3 is a private"):
        await download(runtime, _url(private), tmp_path / "p", max_bytes=LIMIT, total_seconds=5)
    server.route("/moved.mp3", status=302, headers={"Location": private})
    with pytest.raises(SourceProblem, match=r"may not be fetched: 10\.1\.2\.3 is a private"):
        await download(
            runtime,
            _url(f"{server.url}/moved.mp3"),
            tmp_path / "moved",
            max_bytes=LIMIT,
            total_seconds=5,
        )
    assert server.count("/moved.mp3") == 1
    # A 4xx is for good; a 5xx or 429 may pass.
    server.route("/gone.mp3", status=404)
    server.route("/busy.mp3", status=429)
    with pytest.raises(SourceProblem, match="HTTP 404"):
        await download(
            runtime,
            _url(f"{server.url}/gone.mp3"),
            tmp_path / "g",
            max_bytes=LIMIT,
            total_seconds=5,
        )
    with pytest.raises(SourceUnavailable, match="HTTP 429"):
        await download(
            runtime,
            _url(f"{server.url}/busy.mp3"),
            tmp_path / "b",
            max_bytes=LIMIT,
            total_seconds=5,
        )
