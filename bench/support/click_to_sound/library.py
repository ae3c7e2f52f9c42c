"""The library the clicks play: one account on the local PDS, signed in to a real
`plyr serve` (SQLite, local files, web and jobs in one process) through the real sign-in,
uploading real audio through `POST /api/tracks` and following each upload to its published
track, as the upload page does."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx

from plyr.atproto.devnet import start_network
from plyr.auth.sessions import COOKIE_NAME
from support.load.accounts import signed_in_clients
from support.load.server import start_server, stop_server
from support.load.tones import write_tone
from support.loopback import free_port

HANDLE, PASSWORD = "clicker.test", "clicker-password"
# An MP3 as uploaded, a FLAC (browsers play it as is) and an AIFF (plyr makes an MP3).
FORMATS = ("mp3", "flac", "aiff")
SERVER_LOG = Path(tempfile.gettempdir()) / "plyr-click-to-sound-serve.log"
PUBLISH_SECONDS = 180.0


@dataclass(frozen=True)
class Library:
    base: str  # plyr's address
    cookie: str  # the listener's session cookie
    track_ids: list[int]  # published, in upload order
    formats: dict[int, str]  # track id → the uploaded file's format


@asynccontextmanager
async def running_library(work: Path, tracks: int, seconds: float) -> AsyncIterator[Library]:
    """The network, the server and `tracks` uploaded tracks of `seconds` each; all stopped
    on leaving."""
    net = start_network(
        work / "net", plc_port=free_port(), pds_port=free_port(), accounts=((HANDLE, PASSWORD),)
    )
    data_dir = work / "data"
    data_dir.mkdir()
    port = free_port()
    SERVER_LOG.unlink(missing_ok=True)
    server = await start_server(data_dir, port, net, SERVER_LOG)
    base = f"http://127.0.0.1:{port}"
    try:
        (http,) = await signed_in_clients(base, data_dir, net, [HANDLE])
        async with http:
            sources = [
                write_tone(
                    work / f"track-{n:02d}.{FORMATS[n % len(FORMATS)]}", seconds, 250.0 + 13 * n
                )
                for n in range(tracks)
            ]
            at_once = asyncio.Semaphore(4)

            async def one(source: Path) -> int:
                async with at_once:
                    return await upload(http, source)

            ids = await asyncio.gather(*(one(source) for source in sources))
            cookie = http.cookies[COOKIE_NAME]
        yield Library(
            base,
            cookie,
            list(ids),
            {track: source.suffix[1:] for track, source in zip(ids, sources, strict=True)},
        )
    finally:
        await stop_server(server)
        net.stop()


async def upload(http: httpx.AsyncClient, source: Path) -> int:
    """Upload `source` and wait until its track is published; the track's id."""
    audio = await anyio.Path(source).read_bytes()
    sent = await http.post(
        "/api/tracks", data={"title": source.stem}, files={"file": (source.name, audio)}
    )
    if sent.status_code != 202:
        raise SystemExit(f"upload of {source.name} refused: {sent.status_code} {sent.text}")
    upload_id = sent.json()["upload_id"]
    deadline = asyncio.get_running_loop().time() + PUBLISH_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.5)
        progress = (await http.get(f"/api/uploads/{upload_id}")).json()
        if progress["phase"] == "failed":
            raise SystemExit(f"upload of {source.name} failed: {progress.get('error')}")
        if progress["done"] and progress.get("track_id"):
            track = (await http.get(f"/api/tracks/{progress['track_id']}")).json()
            if track["publish_state"] == "published":
                return int(track["id"])
    raise SystemExit(f"upload of {source.name} not published in {PUBLISH_SECONDS:.0f} s")
