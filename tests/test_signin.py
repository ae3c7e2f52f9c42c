"""Signing in with ATProto, end to end: plyr served on loopback, the reference PDS's own
sign-in and consent pages, a real Chromium. Everything here runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select, update

from plyr.atproto.devnet import Network
from plyr.atproto.repo import RepoClient
from plyr.atproto.tid import next_tid
from plyr.atproto.xrpc import PasswordSession, ScopeMissing, XrpcClient
from plyr.auth import oauth
from plyr.auth.client import OAuthClient
from plyr.auth.sessions import COOKIE_NAME, SessionEnded, csrf_token, fresh_grant, repo_for
from plyr.db.models import Artist, AuthSession, OAuthRequest, SessionKind, utcnow
from plyr.runtime import Runtime
from tests.conftest import make_settings
from tests.support.browser import (
    sign_in_at_pds,
    sign_in_to_plyr,
    start_sign_in,
    wait_for_redirect,
)
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = make_settings(
        tmp_path_factory.mktemp("plyr"),
        db_url,
        plc_url=atproto_net.plc_url,
        atproto_dev_network=True,
        atproto_dev_pds_url=atproto_net.pds_url,
        rate_limit_sign_in_per_minute=1000,
    )
    async with running_plyr(settings) as server:
        yield server


@pytest.fixture(autouse=True)
async def _clean(plyr: PlyrServer) -> AsyncIterator[None]:
    yield
    await clear_tables(plyr.runtime.engine)


async def sign_in(page: Page, plyr: PlyrServer, net: Network, handle: str = "alice.test") -> None:
    await sign_in_to_plyr(page, plyr.url, handle, net.account(handle).password)


async def cookie_of(page: Page) -> str:
    for cookie in await page.context.cookies():
        if cookie["name"] == COOKIE_NAME:
            return cookie["value"]
    raise AssertionError("no session cookie")


async def only_session(runtime: Runtime, kind: SessionKind = SessionKind.browser) -> AuthSession:
    async with runtime.sessions() as db:
        rows = (await db.execute(select(AuthSession).where(AuthSession.kind == kind))).scalars()
        found = list(rows)
    assert len(found) == 1, found
    return found[0]


async def expire_access_token(plyr: PlyrServer, session_id: str) -> None:
    """Make the stored access token look expired, as it will be after a few minutes."""
    async with plyr.runtime.sessions() as db:
        await db.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id)
            .values(access_expires_at=utcnow() - timedelta(minutes=1))
        )
        await db.commit()


def client_for(plyr: PlyrServer, cookie: str | None = None) -> httpx.AsyncClient:
    cookies = {COOKIE_NAME: cookie} if cookie else None
    return httpx.AsyncClient(base_url=plyr.url, cookies=cookies, follow_redirects=False)


def csrf(plyr: PlyrServer, session: AuthSession) -> str:
    return csrf_token(plyr.settings.secret_key_bytes(), session.id)


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


# --- the happy path --------------------------------------------------------------------


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


async def test_dpop_bound_write_refresh_and_granted_scopes(
    page: Page, plyr: PlyrServer, atproto_net: Network
) -> None:
    await sign_in(page, plyr, atproto_net)
    session = await only_session(plyr.runtime)
    repo = await repo_for(plyr.runtime, session)
    record = {
        "title": "signed in",
        "artist": "alice",
        "fileType": "mp3",
        "audioUrl": "https://plyr.example/a",
        "createdAt": "2026-11-25T10:00:00.000Z",
    }
    ref = await repo.put_record("fm.plyr.track", next_tid(), record)
    assert ref.uri.startswith(f"at://{session.did}/fm.plyr.track/")
    # The PDS enforces the granular scopes plyr asked for.
    unchecked = RepoClient(repo.xrpc, repo.did)  # no plyr lexicon for app.bsky.feed.post
    with pytest.raises(ScopeMissing):
        await unchecked.put_record(
            "app.bsky.feed.post", next_tid(), {"text": "x", "createdAt": record["createdAt"]}
        )

    # Expired access token: refreshed before the next call, and the new one works.
    before = await fresh_grant(plyr.runtime, session.id)
    await expire_access_token(plyr, session.id)
    repo = await repo_for(plyr.runtime, session)
    after = await fresh_grant(plyr.runtime, session.id)
    assert after.access_token != before.access_token
    assert after.refresh_token != before.refresh_token
    assert (await repo.put_record("fm.plyr.track", next_tid(), record)).cid


async def test_one_refresh_at_a_time_across_processes(
    page: Page, plyr: PlyrServer, atproto_net: Network, db_url: str, tmp_path: Path
) -> None:
    """Two runtimes (two engines, as two processes would have) refresh the same session at
    once. Refresh tokens are single-use at the PDS: a second refresh would be refused and
    end the session, so both getting the same new token proves only one ran."""
    await sign_in(page, plyr, atproto_net)
    session = await only_session(plyr.runtime)
    before = await fresh_grant(plyr.runtime, session.id)
    await expire_access_token(plyr, session.id)
    other = Runtime.open(plyr.settings)
    try:
        grants = await asyncio.gather(
            fresh_grant(plyr.runtime, session.id),
            fresh_grant(other, session.id),
            fresh_grant(other, session.id),
        )
    finally:
        await other.close()
    assert len({grant.access_token for grant in grants}) == 1
    assert grants[0].access_token != before.access_token


async def test_scope_upgrade_turns_scrobbling_on(
    page: Page, plyr: PlyrServer, atproto_net: Network
) -> None:
    await sign_in(page, plyr, atproto_net)
    old_cookie = await cookie_of(page)
    session = await only_session(plyr.runtime)
    repo = await repo_for(plyr.runtime, session)
    play = {"trackName": "a song", "playedTime": "2026-11-25T10:00:00.000Z"}
    with pytest.raises(ScopeMissing):  # not granted until the user turns scrobbling on
        await repo.put_record("fm.teal.alpha.feed.play", next_tid(), play, validate=False)

    await page.goto(f"{plyr.url}/settings")
    await page.get_by_role("button", name="turn scrobbling on").click()
    await sign_in_at_pds(
        page, handle="alice.test", password=atproto_net.account("alice.test").password
    )
    # The page says so (toast.js then takes ?done= off the address, so reloads stay quiet).
    await page.wait_for_url(re.compile(re.escape(f"{plyr.url}/settings")))
    notice = page.get_by_role("status").filter(has_text="scrobbling to teal.fm is on")
    await expect(notice.first).to_be_visible()
    assert await page.get_by_role("button", name="turn scrobbling off").is_visible()

    upgraded = await only_session(plyr.runtime)
    assert upgraded.id != session.id  # the session was replaced…
    assert "repo:fm.teal.alpha.feed.play" in upgraded.scope.split()
    async with client_for(plyr, old_cookie) as http:  # …and the old cookie no longer works
        assert (await http.get("/api/me")).status_code == 401
    teal_repo = await repo_for(plyr.runtime, upgraded)
    written = await teal_repo.put_record(
        "fm.teal.alpha.feed.play", next_tid(), play, validate=False
    )
    assert written.uri.startswith(f"at://{upgraded.did}/fm.teal.alpha.feed.play/")


async def test_developer_tokens_create_use_revoke(
    page: Page, plyr: PlyrServer, atproto_net: Network
) -> None:
    await sign_in(page, plyr, atproto_net)
    password = atproto_net.account("alice.test").password
    tokens: list[str] = []
    for name in ("ci", "laptop"):
        await page.goto(f"{plyr.url}/settings")
        await page.get_by_label("name (optional)").fill(name)
        await page.get_by_label("expires").select_option("30")
        await page.get_by_role("button", name="create a token").click()
        await sign_in_at_pds(page, handle="alice.test", password=password)
        await page.wait_for_url(f"{plyr.url}/oauth/callback?*")
        assert await page.get_by_text("this is the only time plyr shows it").is_visible()
        token = await page.get_by_role("textbox", name="token").input_value()
        assert token.startswith("plyr_")
        tokens.append(token)

    async with client_for(plyr) as http:
        for token in tokens:
            me = await http.get("/api/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200
            assert me.json()["handle"] == "alice.test"
            assert me.json()["via"] == "token"
        listed = await http.get("/api/tokens", headers={"Authorization": f"Bearer {tokens[0]}"})
        assert sorted(t["name"] for t in listed.json()) == ["ci", "laptop"]
        assert all(tokens[0] not in str(t) for t in listed.json())  # never the secret

    # A token is its own grant: it writes to the PDS with its own DPoP key.
    token_session = next(
        s for s in await _sessions(plyr.runtime, SessionKind.dev_token) if s.name == "ci"
    )
    browser_session = await only_session(plyr.runtime)
    assert token_session.secrets != browser_session.secrets
    assert (await fresh_grant(plyr.runtime, token_session.id)).dpop_key.thumbprint() != (
        await fresh_grant(plyr.runtime, browser_session.id)
    ).dpop_key.thumbprint()

    # Revoke "ci" from the settings page: it stops working; the rest does not.
    await page.goto(f"{plyr.url}/settings")
    await page.get_by_role("button", name="revoke ci").click()
    revoked = page.get_by_role("status").filter(has_text="the token was revoked.")
    await expect(revoked.first).to_be_visible()
    async with client_for(plyr) as http:
        gone = await http.get("/api/me", headers={"Authorization": f"Bearer {tokens[0]}"})
        assert gone.status_code == 401
        kept = await http.get("/api/me", headers={"Authorization": f"Bearer {tokens[1]}"})
        assert kept.status_code == 200
    async with client_for(plyr, await cookie_of(page)) as http:
        assert (await http.get("/api/me")).status_code == 200


async def _sessions(runtime: Runtime, kind: SessionKind) -> list[AuthSession]:
    async with runtime.sessions() as db:
        rows = await db.execute(select(AuthSession).where(AuthSession.kind == kind))
        return list(rows.scalars())


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
    assert await _sessions(plyr.runtime, SessionKind.browser) == []
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


# --- what must not work ----------------------------------------------------------------


async def test_user_who_denies_consent_gets_a_message_and_no_session(
    page: Page, plyr: PlyrServer, atproto_net: Network
) -> None:
    await start_sign_in(page, plyr.url, "alice.test")
    await sign_in_at_pds(
        page,
        handle="alice.test",
        password=atproto_net.account("alice.test").password,
        consent=False,
    )
    await page.wait_for_url(f"{plyr.url}/oauth/callback?*")
    assert "you did not authorize plyr" in await page.get_by_role("alert").inner_text()
    assert await _sessions(plyr.runtime, SessionKind.browser) == []
    assert await _pending(plyr.runtime) == []


async def _pending(runtime: Runtime) -> list[OAuthRequest]:
    async with runtime.sessions() as db:
        return list((await db.execute(select(OAuthRequest))).scalars())


@pytest.mark.parametrize(
    ("handle", "message", "status"),
    [
        ("nobody.test", "nobody.test", 400),
        ("not a handle!", "handle", 400),
        ("http://127.0.0.1:9", "cannot reach", 502),
    ],
)
async def test_bad_handles_and_dead_pds_get_a_clear_message(
    plyr: PlyrServer, handle: str, message: str, status: int
) -> None:
    async with client_for(plyr) as http:
        response = await http.post("/login", data={"handle": handle})
    assert response.status_code == status
    assert message in response.text.lower()
    assert 'role="alert"' in response.text
    assert await _pending(plyr.runtime) == []


async def test_tampered_state_and_wrong_issuer_are_refused(plyr: PlyrServer) -> None:
    async with client_for(plyr) as http:
        started = await http.post("/login", data={"handle": "alice.test"})
        assert started.status_code == 303
        [pending] = await _pending(plyr.runtime)
        forged = await http.get(
            "/oauth/callback", params={"state": "forged", "code": "cod-x", "iss": pending.issuer}
        )
        assert forged.status_code == 400
        assert "expired or was already used" in forged.text
        wrong = await http.get(
            "/oauth/callback",
            params={"state": pending.state, "code": "cod-x", "iss": "https://evil.example"},
        )
        assert wrong.status_code == 400
        assert "wrong server" in wrong.text
        # The state was spent by that attempt: it cannot be retried with the right issuer.
        again = await http.get(
            "/oauth/callback",
            params={"state": pending.state, "code": "cod-x", "iss": pending.issuer},
        )
        assert "expired or was already used" in again.text
    assert await _sessions(plyr.runtime, SessionKind.browser) == []


async def test_replayed_callback_is_refused(
    page: Page, plyr: PlyrServer, atproto_net: Network
) -> None:
    await start_sign_in(page, plyr.url, "alice.test")
    await sign_in_at_pds(
        page, handle="alice.test", password=atproto_net.account("alice.test").password
    )
    callback = await wait_for_redirect(page, f"{plyr.url}/oauth/callback")
    await page.wait_for_url(f"{plyr.url}/")
    assert parse_qs(urlsplit(callback).query)["code"]
    async with client_for(plyr) as http:
        replay = await http.get(callback.removeprefix(plyr.url))
    assert replay.status_code == 400
    assert COOKIE_NAME not in replay.cookies
    assert len(await _sessions(plyr.runtime, SessionKind.browser)) == 1


async def test_expired_session_signs_out(
    page: Page, plyr: PlyrServer, atproto_net: Network
) -> None:
    await sign_in(page, plyr, atproto_net)
    session = await only_session(plyr.runtime)
    async with plyr.runtime.sessions() as db:
        await db.execute(
            update(AuthSession)
            .where(AuthSession.id == session.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await db.commit()
    await page.goto(f"{plyr.url}/settings")
    await page.wait_for_url(f"{plyr.url}/login?next=%2Fsettings")
    assert await _sessions(plyr.runtime, SessionKind.browser) == []
    with pytest.raises(SessionEnded):
        await fresh_grant(plyr.runtime, session.id)


async def test_csrf_and_another_users_cookie(
    page: Page, plyr: PlyrServer, atproto_net: Network
) -> None:
    await sign_in(page, plyr, atproto_net, "alice.test")
    alice_cookie = await cookie_of(page)
    alice = await only_session(plyr.runtime)
    await page.context.clear_cookies()
    await sign_in(page, plyr, atproto_net, "bob.test")
    bob_cookie = await cookie_of(page)
    bob = next(s for s in await _sessions(plyr.runtime, SessionKind.browser) if s.id != alice.id)

    async with client_for(plyr, alice_cookie) as http:
        # A mutation without the session's CSRF token is refused and changes nothing.
        refused = await http.post("/logout", headers={"Accept": "application/json"})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "csrf_failed"
        assert (await http.get("/api/me")).status_code == 200
        # Bob's CSRF token does not work with Alice's cookie.
        borrowed = await http.post("/logout", data={"csrf_token": csrf(plyr, bob)})
        assert borrowed.status_code == 403
        # A cross-site sign-in form post is refused.
        cross = await http.post(
            "/login", data={"handle": "alice.test"}, headers={"Origin": "https://evil.example"}
        )
        assert cross.status_code == 403

    # Bob cannot revoke Alice's sessions or tokens: the id is looked up among his own.
    async with client_for(plyr, bob_cookie) as http:
        response = await http.post(
            f"/settings/tokens/{alice.id[:16]}/revoke", data={"csrf_token": csrf(plyr, bob)}
        )
        assert response.status_code == 404
        assert (await http.get("/api/me")).json()["handle"] == "bob.test"
    async with client_for(plyr, alice_cookie) as http:
        assert (await http.get("/api/me")).json()["handle"] == "alice.test"


async def test_sign_in_is_rate_limited_per_address(plyr: PlyrServer) -> None:
    limited = plyr.settings.model_copy(update={"rate_limit_sign_in_per_minute": 2})
    async with running_plyr(limited) as server, client_for(server) as http:
        codes = [
            (await http.post("/login", data={"handle": "nobody.test"})).status_code
            for _ in range(3)
        ]
        assert codes == [400, 400, 429]
