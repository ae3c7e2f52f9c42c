"""An artist of a media test's own: a fresh account on the local PDS (with a Bluesky avatar
when asked, written as the Bluesky app writes it), signed in to plyr in Chromium, so the
test may upload, take down and hide without touching Alice, Bob or Carol."""

from __future__ import annotations

import secrets

import httpx
from playwright.async_api import Browser

from plyr.atproto.devnet import Network
from plyr.atproto.repo import RepoClient
from plyr.atproto.xrpc import PasswordSession, XrpcClient
from plyr.auth.sessions import csrf_token, hash_secret
from tests.support.browser import sign_in_to_plyr
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn
from tests.support.sign_in_tab import sign_in_tab


async def newcomer(
    browser: Browser, plyr: PlyrServer, net: Network, prefix: str, *, avatar: bytes | None = None
) -> SignedIn:
    handle = f"{prefix}{secrets.token_hex(3)}.test"
    password = secrets.token_urlsafe(12)
    async with httpx.AsyncClient(timeout=30) as http:
        made = await http.post(
            f"{net.pds_url}/xrpc/com.atproto.server.createAccount",
            json={"handle": handle, "password": password, "email": f"{handle}@example.com"},
        )
        assert made.status_code == 200, made.text
        did = made.json()["did"]
        if avatar is not None:  # before signing in: plyr reads the profile then
            session = await PasswordSession.create(http, net.pds_url, handle, password)
            repo = RepoClient(XrpcClient(http, net.pds_url, session), did)
            blob = await repo.upload_blob(avatar, "image/png")
            await repo.put_record("app.bsky.actor.profile", "self", {"avatar": blob})
    async with sign_in_tab(browser) as page:
        cookie = await sign_in_to_plyr(page, plyr.url, handle, password)
    return SignedIn(
        handle, did, cookie, csrf_token(plyr.settings.secret_key_bytes(), hash_secret(cookie))
    )
