"""Fixtures of the client tests (the `plyrfm` SDK, its CLI and its MCP server): one plyr
(web + worker) per database on the local ATProto network, developer tokens made the way
a user makes them (settings page → consent at the PDS), and a scripted local server for
what a live plyr cannot be made to answer on cue."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser
from sqlalchemy import update

from plyr.atproto.devnet import Network
from plyr.auth.sessions import hash_secret
from plyr.auth.signin import revoke_dev_token
from plyr.db.models import AuthSession, utcnow
from tests.clients.scripted import Scripted
from tests.conftest import devnet_settings
from tests.support.audio import make_audio
from tests.support.databases import clear_tables
from tests.support.dev_tokens import create_dev_token
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, sign_in, upload_published


@dataclass(frozen=True)
class TokenUser:
    handle: str
    did: str
    token: str


@pytest.fixture(scope="package")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(tmp_path_factory.mktemp("plyr-clients"), db_url, atproto_net)
    async with running_plyr(settings, worker=True) as server:
        yield server
    await clear_tables(server.runtime.engine)


async def _token_user(browser: Browser, plyr: PlyrServer, net: Network, handle: str) -> TokenUser:
    token = await create_dev_token(browser, plyr, net, handle, name="sdk tests")
    return TokenUser(handle, net.account(handle).did, token)


@pytest.fixture(scope="package")
async def alice(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> TokenUser:
    """An artist with a developer token (her tracks come from `catalogue`)."""
    return await _token_user(browser, plyr, atproto_net, "alice.test")


@pytest.fixture(scope="package")
async def bob(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> TokenUser:
    """A listener with a developer token."""
    return await _token_user(browser, plyr, atproto_net, "bob.test")


@dataclass(frozen=True)
class DeadTokens:
    expired: str
    revoked: str


@pytest.fixture(scope="package")
async def dead_tokens(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> DeadTokens:
    """Two of Bob's developer tokens that plyr refuses: one past its expiry, one revoked."""
    expired = await create_dev_token(browser, plyr, atproto_net, "bob.test", name="to expire")
    revoked = await create_dev_token(browser, plyr, atproto_net, "bob.test", name="to revoke")
    async with plyr.runtime.sessions() as db:
        await db.execute(
            update(AuthSession)
            .where(AuthSession.id == hash_secret(expired))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await db.commit()
    did = atproto_net.account("bob.test").did
    assert await revoke_dev_token(plyr.runtime, did, hash_secret(revoked))
    return DeadTokens(expired, revoked)


@pytest.fixture(scope="package")
async def alice_browser(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    """Alice signed in with a cookie, to set things up the way the web app does."""
    return await sign_in(browser, plyr, atproto_net, "alice.test")


@pytest.fixture(scope="package")
async def catalogue(
    plyr: PlyrServer, alice_browser: SignedIn, tmp_path_factory: pytest.TempPathFactory
) -> list[dict[str, Any]]:
    """Three published tracks of Alice's (newest last), uploaded through the web API."""
    folder = tmp_path_factory.mktemp("catalogue")
    tracks = []
    async with alice_browser.client(plyr) as http:
        for n, (title, fmt) in enumerate(
            [("morning drift", "mp3"), ("harbour lights", "flac"), ("late static", "ogg-vorbis")]
        ):
            source = make_audio(
                folder / f"t{n}.{fmt.split('-')[0]}", fmt, seconds=2.0, freq=330 + 110 * n
            )
            tracks.append(
                await upload_published(
                    http, source, title=title, album="tide tables", tags="ambient"
                )
            )
    return tracks


@pytest.fixture
def audio_file(tmp_path: Path) -> Path:
    """A fresh 2 s WAV to upload."""
    return make_audio(tmp_path / "fresh take.wav", "wav", seconds=2.0, freq=440)


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    server = Scripted()
    try:
        yield server
    finally:
        server.stop()
