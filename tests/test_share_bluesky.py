"""Sharing a track to Bluesky on the real local PDS: the scope upgrade it needs (and what
happens without it), the post read back from the user's repository and checked with the
schema the PDS itself runs, its thumbnail blob, a retry that posts once, a PDS that is down
for a while, and the track page's dialog in Chromium (screenshots at 1280 and 375 px)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select, update

from plyr.atproto.devnet import Network
from plyr.auth.client import share_scopes
from plyr.auth.sessions import csrf_token
from plyr.db.models import AuthSession, Job, Track, utcnow
from plyr.jobs.registry import JobContext
from plyr.social import bluesky
from tests.conftest import devnet_settings
from tests.support.audio import make_audio, make_image
from tests.support.bluesky_posts import check_post, posts_of
from tests.support.browser import ARTIFACTS, sign_in_at_pds, sign_in_to_plyr
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import (
    SignedIn,
    point_sessions_at,
    public_record,
    sign_in,
    upload_published,
)
from tests.support.ports import free_port

pytestmark = pytest.mark.browser

MANY = 1_000_000


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-bluesky"),
        db_url,
        atproto_net,
        rate_limit_writes_per_minute=MANY,
        rate_limit_uploads_per_hour=MANY,
    )
    async with running_plyr(settings, worker=True) as server:
        yield server
    await clear_tables(server.runtime.engine)


@pytest.fixture(scope="module")
async def alice(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    return await sign_in(browser, plyr, atproto_net, "alice.test")


@pytest.fixture(scope="module")
async def track(
    plyr: PlyrServer, alice: SignedIn, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """A published track of alice's with artwork (so a thumbnail)."""
    folder = tmp_path_factory.mktemp("bluesky-audio")
    audio = make_audio(folder / "song.mp3", "mp3", seconds=3, freq=330)
    cover = make_image(folder / "cover.png", "png", (400, 400))
    async with alice.client(plyr) as http:
        fields = {"title": "héllo wörld 🎧", "album": "summer"}
        uploaded = await upload_published(http, audio, image=cover, **fields)
    assert uploaded["thumbnail_url"]
    return uploaded


async def _grant_claims_sharing(plyr: PlyrServer, did: str) -> list[tuple[str, str]]:
    """Make plyr believe alice's grants hold the sharing scopes (the PDS knows better);
    returns what to restore."""
    async with plyr.runtime.sessions() as db:
        rows = list((await db.execute(select(AuthSession).where(AuthSession.did == did))).scalars())
        saved = [(row.id, row.scope) for row in rows]
        for row in rows:
            row.scope = " ".join([*row.scope.split(), *share_scopes()])
        await db.commit()
    return saved


async def _restore_scopes(plyr: PlyrServer, saved: list[tuple[str, str]]) -> None:
    async with plyr.runtime.sessions() as db:
        for session_id, scope in saved:
            await db.execute(
                update(AuthSession).where(AuthSession.id == session_id).values(scope=scope)
            )
        await db.commit()


async def _share_jobs(plyr: PlyrServer) -> int:
    async with plyr.runtime.sessions() as db:
        jobs = await db.execute(select(Job.id).where(Job.kind == bluesky.JOB_KIND))
        return len(list(jobs))


async def test_without_the_scope(
    plyr: PlyrServer, alice: SignedIn, track: dict[str, Any], atproto_net: Network
) -> None:
    """No permission to post: plyr says so with the code the page starts the upgrade on, and
    when plyr thinks it may but the grant does not allow it, the PDS refuses the write
    (ScopeMissing) and the answer is the same code. Nothing is posted either way."""
    path = f"/api/tracks/{track['id']}/share/bluesky"
    before = await posts_of(atproto_net, alice.did)  # the network outlives each database's run
    async with alice.client(plyr) as http:
        refused = await http.post(path, json={"text": "listen"})
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "bluesky_scope_missing"
        assert await _share_jobs(plyr) == 0  # refused before anything was queued

        saved = await _grant_claims_sharing(plyr, alice.did)
        try:
            pds_refused = await http.post(path, json={"text": "listen"})
        finally:
            await _restore_scopes(plyr, saved)
    assert pds_refused.status_code == 403, pds_refused.text
    error = pds_refused.json()["error"]
    assert error["code"] == "bluesky_scope_missing"
    assert "your pds refused the post" in error["message"]
    assert await posts_of(atproto_net, alice.did) == before


async def test_bad_shares_are_refused(
    plyr: PlyrServer, alice: SignedIn, track: dict[str, Any]
) -> None:
    jobs_before = await _share_jobs(plyr)
    saved = await _grant_claims_sharing(plyr, alice.did)
    path = f"/api/tracks/{track['id']}/share/bluesky"
    flag = "\U0001f1eb\U0001f1f7"  # one character of 8 bytes
    try:
        async with alice.client(plyr) as http:
            too_long = await http.post(path, json={"text": flag * 301})
            empty = await http.post(path, json={"text": "   "})
            bad_lang = await http.post(path, json={"text": "hi", "langs": ["not a language!"]})
            missing = await http.post("/api/tracks/999999/share/bluesky", json={})
            # taken down: no share, not even by its artist
            async with plyr.runtime.sessions() as db:
                await db.execute(
                    update(Track).where(Track.id == track["id"]).values(taken_down_at=utcnow())
                )
                await db.commit()
            try:
                gone = await http.post(path, json={})
                page = await http.get(f"/tracks/{track['id']}", headers={"Accept": "text/html"})
            finally:
                async with plyr.runtime.sessions() as db:
                    await db.execute(
                        update(Track).where(Track.id == track["id"]).values(taken_down_at=None)
                    )
                    await db.commit()
    finally:
        await _restore_scopes(plyr, saved)
    assert (too_long.status_code, too_long.json()["error"]["code"]) == (422, "post_too_long")
    assert "301" in too_long.json()["error"]["message"]
    assert (empty.status_code, empty.json()["error"]["code"]) == (422, "empty_post")
    assert (bad_lang.status_code, bad_lang.json()["error"]["code"]) == (422, "invalid_post")
    assert missing.status_code == 404
    assert gone.status_code == 451, gone.text
    assert "share to bluesky" not in page.text  # the artist sees the page, without the button
    assert await _share_jobs(plyr) == jobs_before  # nothing was queued


async def _shot(page: Page, name: str, width: int) -> Path:
    await page.set_viewport_size({"width": width, "height": 800 if width > 500 else 740})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"share-bluesky-{name}-{width}.png"
    await page.screenshot(path=path)
    return path


async def test_share_through_the_upgrade_in_chromium(
    page: Page, plyr: PlyrServer, track: dict[str, Any], atproto_net: Network
) -> None:
    alice = atproto_net.account("alice.test")
    await sign_in_to_plyr(page, plyr.url, "alice.test", alice.password)
    before = {post["uri"] for post in await posts_of(atproto_net, alice.did)}
    sharing = page.locator("[data-bluesky-sharing]")
    await page.goto(f"{plyr.url}/settings")
    await expect(sharing).to_have_attribute("data-bluesky-sharing", "not-yet")
    await expect(sharing.get_by_role("button", name="allow sharing to bluesky")).to_be_visible()
    await sharing.scroll_into_view_if_needed()
    await _shot(page, "settings-not-yet", 1280)
    await _shot(page, "settings-not-yet", 375)
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.goto(f"{plyr.url}/tracks/{track['id']}")
    await page.get_by_role("link", name="share to bluesky").click()
    dialog = page.get_by_role("dialog", name="share to bluesky")
    await expect(dialog).to_be_visible()
    text_box = dialog.get_by_label("your post")
    link = f"{plyr.url}/tracks/{track['id']}"
    assert await text_box.input_value() == f"{track['title']} — {track['artist']}\n{link}"
    await text_box.fill(f"{track['title']} — so good 🎧 {link}")
    await expect(dialog.get_by_text(re.compile(r"^\d+ / 300$"))).to_be_visible()
    await _shot(page, "dialog", 1280)
    await _shot(page, "dialog", 375)
    await page.emulate_media(color_scheme="dark")
    await _shot(page, "dialog-dark", 375)
    await page.emulate_media(color_scheme="light")
    await page.set_viewport_size({"width": 1280, "height": 800})
    # Over 300 characters the post cannot be sent.
    await text_box.fill("🎧" * 301)
    await expect(dialog.get_by_text("1 over the 300 a post holds")).to_be_visible()
    await expect(dialog.get_by_role("button", name="post to bluesky")).to_be_disabled()
    text = f"{track['title']} — so good 🎧 {link}"
    await text_box.fill(text)
    await dialog.get_by_role("button", name="post to bluesky").click()

    # plyr may not post yet: the pds asks alice, then she is back on the track page.
    await page.wait_for_url(re.compile(r".*/oauth/authorize.*"))
    await sign_in_at_pds(page, handle="alice.test", password=alice.password)
    await page.wait_for_url(f"{plyr.url}/tracks/{track['id']}*")
    toast = page.locator("#toasts").get_by_text(re.compile("posted to bluesky"))
    await expect(toast).to_be_visible(timeout=20_000)
    post_link = page.locator("#toasts").get_by_role("link", name="see it on bsky.app")
    href = await post_link.get_attribute("href")
    assert href is not None
    match = re.fullmatch(rf"https://bsky\.app/profile/{re.escape(alice.did)}/post/(\w+)", href)
    assert match, href
    assert "share=" not in page.url  # the resumed share is not sent again on reload
    await _shot(page, "toast", 1280)

    after = await posts_of(atproto_net, alice.did)
    new = [post for post in after if post["uri"] not in before]
    assert [post["uri"] for post in new] == [f"at://{alice.did}/app.bsky.feed.post/{match[1]}"]
    await check_post(atproto_net, plyr, new[0]["uri"], track, text)
    # The upgrade added sharing and kept the rest (scrobbling stays off).
    async with plyr.runtime.sessions() as db:
        newest = await db.scalar(
            select(AuthSession)
            .where(AuthSession.did == alice.did)
            .order_by(AuthSession.created_at.desc())
            .limit(1)
        )
    assert newest is not None
    assert "repo:app.bsky.feed.post?action=create" in newest.scope.split()
    assert "repo:fm.teal.alpha.feed.play" not in newest.scope.split()
    # The settings page says so, and offers to take it back.
    await page.goto(f"{plyr.url}/settings")
    await expect(sharing).to_have_attribute("data-bluesky-sharing", "allowed")
    await expect(sharing.get_by_role("button", name="stop letting plyr post")).to_be_visible()
    await sharing.scroll_into_view_if_needed()
    await _shot(page, "settings-allowed", 1280)
    await _shot(page, "settings-allowed", 375)


async def _sharing_session(plyr: PlyrServer, did: str) -> AuthSession:
    async with plyr.runtime.sessions() as db:
        rows = await db.execute(select(AuthSession).where(AuthSession.did == did))
        found = [
            row for row in rows.scalars() if "repo:app.bsky.feed.post?action=create" in row.scope
        ]
    assert found, "no session may post (the Chromium test upgrades one)"
    return found[0]


async def test_a_retry_posts_once_and_a_pds_outage_only_delays(
    plyr: PlyrServer, track: dict[str, Any], atproto_net: Network
) -> None:
    did = atproto_net.account("alice.test").did
    session = await _sharing_session(plyr, did)
    runtime = plyr.runtime
    share = await bluesky.share_track(runtime, session, int(track["id"]))
    posted = await bluesky.await_share(runtime, share, 20)
    assert posted.state == "posted"
    await check_post(
        atproto_net,
        plyr,
        share.uri,
        track,
        f"{track['title']} — {track['artist']}\n{plyr.url}/tracks/{track['id']}",
    )
    count = len(await posts_of(atproto_net, did))
    # The same job once more (its answer lost, say): it finds the post and writes nothing.
    async with runtime.sessions() as db:
        job = await db.get(Job, share.job_id)
        assert job is not None
        payload = dict(job.payload)

    async def report(*_args: Any, **_kwargs: Any) -> None:
        return None

    context = JobContext(
        0, bluesky.JOB_KIND, 2, payload, runtime.sessions, report, {"runtime": runtime}
    )
    again = await bluesky.write_share(context)
    assert again is not None
    assert again["uri"] == share.uri
    assert again["cid"] == posted.cid
    assert len(await posts_of(atproto_net, did)) == count

    # The PDS cannot be reached: the share waits (202) and goes out when it is back.
    await point_sessions_at(plyr, did, f"http://127.0.0.1:{free_port()}")
    try:
        pending = await bluesky.share_track(runtime, session, int(track["id"]), "later")
        outcome = await bluesky.await_share(runtime, pending, 1.5)
        assert outcome.state == "pending"
        async with runtime.sessions() as db:
            job = await db.get(Job, pending.job_id)
            assert job is not None
            assert job.attempts >= 1
            assert job.last_error
    finally:
        await point_sessions_at(plyr, did, atproto_net.pds_url)
    done = await bluesky.await_share(runtime, pending, 30)
    assert done.state == "posted"
    assert (await public_record(atproto_net, pending.uri)) is not None


async def test_the_plain_form_then_the_api(
    browser: Browser, plyr: PlyrServer, track: dict[str, Any], atproto_net: Network
) -> None:
    """The share page's own form (what works without JavaScript: submitted here as a plain
    form post) goes through the upgrade too; then the JSON API posts at once (201)."""
    account = atproto_net.account("alice.test")
    context = await browser.new_context()
    try:
        page = await context.new_page()
        cookie = await sign_in_to_plyr(page, plyr.url, "alice.test", account.password)
        share_page = f"{plyr.url}/tracks/{track['id']}/share/bluesky"
        await page.goto(share_page)
        form = page.locator("form[data-bluesky-form]")
        await form.get_by_label("your post").fill("plain form")
        await form.evaluate("form => form.submit()")  # past bluesky.js: a plain post
        await page.wait_for_url(re.compile(r".*/oauth/authorize.*"))
        await sign_in_at_pds(page, handle="alice.test", password=account.password)
        await page.wait_for_url(share_page)
        await form.get_by_label("your post").fill("plain form, allowed")
        await form.evaluate("form => form.submit()")
        await page.wait_for_url(lambda url: url.startswith(f"{plyr.url}/tracks/{track['id']}?"))
        await expect(page.get_by_text("posted to bluesky")).to_be_visible()
        cookie = next(c["value"] for c in await context.cookies() if c["name"] == "plyr_session")
    finally:
        await context.close()
    texts = [post["value"]["text"] for post in await posts_of(atproto_net, account.did)]
    assert "plain form, allowed" in texts
    assert "plain form" not in texts

    alice = SignedIn(
        "alice.test",
        account.did,
        cookie,
        csrf_token(plyr.settings.secret_key_bytes(), hashlib.sha256(cookie.encode()).hexdigest()),
    )
    async with alice.client(plyr) as http:
        answer = await http.post(
            f"/api/tracks/{track['id']}/share/bluesky",
            json={"text": "two links: https://example.com/a, and https://example.com/b."},
        )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["state"] == "posted"
    assert body["cid"]
    assert body["url"].startswith(f"https://bsky.app/profile/{account.did}/post/")
    stored = await public_record(atproto_net, body["uri"])
    assert stored is not None
    facets = stored["value"]["facets"]
    text = stored["value"]["text"].encode()
    assert [text[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in facets] == [
        "https://example.com/a",
        "https://example.com/b",
    ]
