"""Signing in lands back signed in with the Bluesky profile; signing out ends it at the PDS."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.async_api import Page

from plyr.atproto.devnet import Network
from plyr.atproto.repo import RepoClient
from plyr.atproto.xrpc import PasswordSession, XrpcClient
from plyr.auth import oauth
from plyr.auth.client import OAuthClient
from plyr.auth.sessions import COOKIE_NAME, fresh_grant
from plyr.db.models import Artist, SessionKind
from tests.support.plyr_server import PlyrServer
from tests.support.sessions import auth_sessions, client_for, cookie_of, only_session, sign_in

pytestmark = pytest.mark.browser


AVATAR_BYTES = bytes(range(256)) * 8


async def set_bluesky_profile(net: Network, handle: str, **fields: Any) -> dict[str, Any]:
    """Write the user's Bluesky profile as the Bluesky app would; returns the avatar blob."""
    async with httpx.AsyncClient(timeout=10) as http:
        account = net.account(handle)
        session = await PasswordSession.create(http, net.pds_url, account.handle, account.password)
        repo = RepoClient(XrpcClient(http, net.pds_url, session), session.did)
        avatar = await repo.upload_blob(AVATAR_BYTES, "image/png")
        await repo.put_record("app.bsky.actor.profile", "self", {**fields, "avatar": avatar})
        return avatar


async def test_sign_in_lands_back_signed_in(
    page: Page, plyr: PlyrServer, atproto_net: Network
) -> None:
    avatar = await set_bluesky_profile(atproto_net, "alice.test", displayName="Alice Liddell")
    await sign_in(page, plyr, atproto_net)

    assert await page.get_by_role("link", name="settings for @alice.test").is_visible()
    [cookie] = [c for c in await page.context.cookies() if c["name"] == COOKIE_NAME]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # plain http on loopback; https public URLs set it

    session = await only_session(plyr.runtime)
    alice = atproto_net.account("alice.test")
    assert session.did == alice.did
    assert session.id != cookie["value"]  # only a hash of the cookie is stored
    assert b"access" not in session.secrets  # tokens are encrypted at rest
    assert "repo:fm.plyr.track" in session.scope.split()
    async with plyr.runtime.sessions() as db:
        artist = await db.get(Artist, alice.did)
    assert artist is not None
    assert artist.handle == "alice.test"
    assert artist.pds_url == atproto_net.pds_url
    assert artist.display_name == "Alice Liddell"
    assert artist.avatar_url is not None
    assert avatar["ref"]["$link"] in artist.avatar_url
    async with httpx.AsyncClient() as http:  # the avatar URL serves the image blob
        assert (await http.get(artist.avatar_url)).content == AVATAR_BYTES

    # A later sign-in picks up a changed profile.
    await set_bluesky_profile(atproto_net, "alice.test", displayName="Alice in Chains")
    await page.context.clear_cookies()
    await sign_in(page, plyr, atproto_net)
    async with plyr.runtime.sessions() as db:
        artist = await db.get(Artist, alice.did)
    assert artist is not None
    assert artist.display_name == "Alice in Chains"


async def test_sign_out_ends_the_session_and_revokes_the_grant(
    page: Page, plyr: PlyrServer, atproto_net: Network
) -> None:
    await sign_in(page, plyr, atproto_net)
    cookie = await cookie_of(page)
    session = await only_session(plyr.runtime)
    grant = await fresh_grant(plyr.runtime, session.id)
    await page.get_by_role("button", name="sign out").click()
    await page.wait_for_url(f"{plyr.url}/")
    assert await page.get_by_role("link", name="sign in").is_visible()
    assert await auth_sessions(plyr.runtime, SessionKind.browser) == []
    async with client_for(plyr, cookie) as http:
        assert (await http.get("/api/me")).status_code == 401
    # Revoked at the PDS too: the refresh token is worthless now.
    server = await oauth.authorization_server(plyr.runtime.http, session.issuer)
    assert grant.refresh_token is not None
    with pytest.raises(oauth.InvalidGrant):
        await oauth.refresh(
            OAuthClient(plyr.settings),
            plyr.runtime.http,
            server=server,
            refresh_token=grant.refresh_token,
            dpop_key=grant.dpop_key,
        )
