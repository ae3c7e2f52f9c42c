"""Fixtures of the Subsonic tests: one plyr per database on the local ATProto network, and
Alice as a Subsonic player knows her: an app password made on the settings page (with her
browser session's cookie and CSRF token, as the form posts it) and an API key (a developer
token made the way a user makes one: settings, consent at the PDS). Clients are
py-opensonic (`AsyncConnection`, aiohttp, in the test's event loop) and raw httpx."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from libopensonic import AsyncConnection
from playwright.async_api import Browser

from plyr.atproto.devnet import Network
from tests.conftest import devnet_settings
from tests.support.audio import make_audio, make_image
from tests.support.databases import clear_tables
from tests.support.dev_tokens import create_dev_token
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, sign_in, upload_published

# Deliberate failures from 127.0.0.1 across the package stay under it; the throttling test
# goes past it from other loopback addresses.
SIGN_IN_LIMIT = 20
PASSWORD_FIELD = re.compile(r'id="subsonic-password"[^>]*\svalue="([^"]+)"')


@pytest.fixture(scope="package")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-subsonic"),
        db_url,
        atproto_net,
        rate_limit_sign_in_per_minute=SIGN_IN_LIMIT,
    )
    async with running_plyr(settings, worker=True) as server:
        yield server
    await clear_tables(server.runtime.engine)


async def make_app_password(plyr: PlyrServer, user: SignedIn) -> str:
    """Post the settings page's form; the password is on the page it answers, this once."""
    async with user.client(plyr) as http:
        response = await http.post(
            "/settings/subsonic/password",
            data={"csrf_token": user.csrf},
            headers={"Accept": "text/html"},
        )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    found = PASSWORD_FIELD.search(response.text)
    assert found is not None, "the new app password is not on the page"
    return found[1]


@pytest.fixture(scope="package")
async def alice(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    return await sign_in(browser, plyr, atproto_net, "alice.test")


@pytest.fixture(scope="package")
async def bob(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    return await sign_in(browser, plyr, atproto_net, "bob.test")


@dataclass(frozen=True)
class Library:
    """What the package's plyr holds, uploaded through the real upload path (published to
    the PDS): track ids by title. Tests that change it (takedowns, deletes) add their own
    tracks rather than touching these."""

    tracks: dict[str, int]
    album: str  # alice's album, its tracks in this order:
    album_titles: tuple[str, ...]
    single: str  # alice's track in no album
    bob_track: str


ALBUM = "night drives"
ALBUM_TITLES = ("first song", "second song", "third song")


@pytest.fixture(scope="package")
async def library(
    plyr: PlyrServer, alice: SignedIn, bob: SignedIn, tmp_path_factory: pytest.TempPathFactory
) -> Library:
    """Alice: an album of three songs (flac, mp3, m4a; 6 s each; artwork on the first;
    tagged ambient and night) and a single (ogg, tagged folk); Bob: one song on an album of
    his (mp3, tagged ambient), each published before the next is sent."""
    folder = tmp_path_factory.mktemp("subsonic-audio")
    cover = make_image(folder / "cover.png", "png", (600, 600))
    files = [
        (make_audio(folder / "1.flac", "flac", 6.0, 330), ALBUM_TITLES[0], cover),
        (make_audio(folder / "2.mp3", "mp3", 6.0, 440), ALBUM_TITLES[1], None),
        (make_audio(folder / "3.m4a", "m4a-aac", 6.0, 550), ALBUM_TITLES[2], None),
    ]
    tracks: dict[str, int] = {}
    async with alice.client(plyr) as http:
        for path, title, image in files:  # one by one: the album keeps upload order
            fields = {"title": title, "album": ALBUM, "tags": "ambient, night"}
            track = await upload_published(http, path, image=image, **fields)
            tracks[title] = int(track["id"])
        single = make_audio(folder / "4.ogg", "ogg-vorbis", 6.0, 660)
        track = await upload_published(http, single, title="morning", tags="folk")
        tracks["morning"] = int(track["id"])
    async with bob.client(plyr) as http:
        source = make_audio(folder / "5.mp3", "mp3", 6.0, 770)
        fields = {"title": "bob's tune", "album": "bob's album", "tags": "ambient"}
        tracks["bob's tune"] = int((await upload_published(http, source, **fields))["id"])
    return Library(tracks, ALBUM, ALBUM_TITLES, "morning", "bob's tune")


@pytest.fixture(scope="package")
async def alice_password(plyr: PlyrServer, alice: SignedIn) -> str:
    return await make_app_password(plyr, alice)


@pytest.fixture(scope="package")
async def alice_key(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> str:
    return await create_dev_token(browser, plyr, atproto_net, "alice.test", name="subsonic")


@asynccontextmanager
async def opensonic(plyr: PlyrServer, **credentials: Any) -> AsyncIterator[AsyncConnection]:
    """A py-opensonic connection to `plyr` (it takes the host and the port apart)."""
    host, port = plyr.url.rsplit(":", 1)
    connection = AsyncConnection(host, port=int(port), app_name="plyr-tests", **credentials)
    try:
        yield connection
    finally:
        await connection.cleanup()


@asynccontextmanager
async def raw(plyr: PlyrServer, address: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """httpx to `plyr`, from `address` (another loopback address: another client)."""
    transport = httpx.AsyncHTTPTransport(local_address=address) if address else None
    async with httpx.AsyncClient(base_url=plyr.url, transport=transport, timeout=30) as http:
        yield http
