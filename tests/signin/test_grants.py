"""The OAuth grant after sign-in: DPoP-bound writes, refreshes one at a time, scope upgrades."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import update

from plyr.atproto.devnet import Network
from plyr.atproto.repo import RepoClient
from plyr.atproto.tid import next_tid
from plyr.atproto.xrpc import ScopeMissing
from plyr.auth.sessions import fresh_grant, repo_for
from plyr.db.models import AuthSession, utcnow
from plyr.runtime import Runtime
from tests.support.browser import sign_in_at_pds
from tests.support.plyr_server import PlyrServer
from tests.support.sessions import client_for, cookie_of, only_session, sign_in

pytestmark = pytest.mark.browser


async def expire_access_token(plyr: PlyrServer, session_id: str) -> None:
    """Make the stored access token look expired, as it will be after a few minutes."""
    async with plyr.runtime.sessions() as db:
        await db.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id)
            .values(access_expires_at=utcnow() - timedelta(minutes=1))
        )
        await db.commit()


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
