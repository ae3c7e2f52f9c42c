"""The web player in Chromium against a running plyr (web + worker) and the real PDS:
playback survives navigation, the queue survives a reload and follows across tabs."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, Response
from sqlalchemy import select

from plyr.atproto.devnet import Network
from plyr.auth.sessions import COOKIE_NAME, csrf_token
from plyr.db.models import Track
from tests.conftest import devnet_settings
from tests.support.audio import make_audio
from tests.support.browser import ARTIFACTS, sign_in_to_plyr
from tests.support.plyr_server import PlyrServer, running_plyr

pytestmark = pytest.mark.browser

PAGES = ("/", "/upload", "/settings", "/portal", "/artists/alice.test", "/tracks/1", "/nope")


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    folder = tmp_path_factory.mktemp("plyr-player")
    settings = devnet_settings(
        folder,
        f"sqlite+aiosqlite:///{folder / 'plyr.db'}",
        atproto_net,
    )
    async with running_plyr(settings, worker=True) as server:
        yield server


@pytest.fixture(scope="module")
async def listener(
    browser: Browser,
    plyr: PlyrServer,
    atproto_net: Network,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[BrowserContext]:
    """Alice, signed in, with three published tracks of 20 s."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    password = atproto_net.account("alice.test").password
    cookie = await sign_in_to_plyr(page, plyr.url, "alice.test", password)
    csrf = csrf_token(plyr.settings.secret_key_bytes(), hashlib.sha256(cookie.encode()).hexdigest())
    folder = tmp_path_factory.mktemp("player-audio")
    async with httpx.AsyncClient(
        base_url=plyr.url,
        cookies={COOKIE_NAME: cookie},
        headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
        timeout=60,
    ) as http:
        for index, name in enumerate(("first song", "second song", "third song")):
            source = make_audio(
                folder / f"{index}.mp3", "mp3", seconds=20.0, freq=300 + 100 * index
            )
            accepted = await http.post(
                "/api/tracks",
                data={"title": name},
                files={"file": (source.name, source.read_bytes(), "audio/mpeg")},
            )
            assert accepted.status_code == 202, accepted.text
            upload_id = accepted.json()["upload_id"]
            for _ in range(300):
                status = (await http.get(f"/api/uploads/{upload_id}")).json()
                if status["done"]:
                    break
                await asyncio.sleep(0.1)
            assert status["phase"] == "published", status
    await page.close()
    yield context
    await context.close()


async def current_time(page: Page) -> float:
    return float(await page.evaluate("document.getElementById('player-audio').currentTime"))


async def playing(page: Page) -> bool:
    return not await page.evaluate("document.getElementById('player-audio').paused")


async def queue_titles(page: Page) -> list[str]:
    return await page.locator("#queue-list .queue-play").all_inner_texts()


async def test_playback_survives_navigation(plyr: PlyrServer, listener: BrowserContext) -> None:
    page = await listener.new_page()
    await page.goto(f"{plyr.url}/")
    await page.get_by_role("button", name="play first song").click()
    await page.wait_for_function("() => document.getElementById('player-audio').currentTime > 0.5")
    assert await playing(page)
    before = await current_time(page)
    audio_handle = await page.evaluate_handle("document.getElementById('player-audio')")
    for link in ("first song", "home", "settings"):
        target = page.get_by_role("link", name=link).first
        if link == "settings":
            target = page.get_by_role("link", name="settings for @alice.test")
        await target.click()
        await page.wait_for_load_state()
        await asyncio.sleep(0.4)
        assert await playing(page), f"stopped after opening {link}"
        now = await current_time(page)
        assert now > before, f"restarted after opening {link}: {now} <= {before}"
        before = now
        # The very same element: navigation swapped the page, not the player.
        assert await page.evaluate(
            "(a) => a === document.getElementById('player-audio')", audio_handle
        )
    assert "first song" in await page.title()
    await page.close()


async def test_queue_reorders_and_survives_a_reload(
    plyr: PlyrServer, listener: BrowserContext
) -> None:
    page = await listener.new_page()
    await page.goto(f"{plyr.url}/")
    await page.evaluate("localStorage.removeItem('plyr.queue')")
    await page.get_by_role("button", name="play first song").click()
    await page.get_by_role("button", name="add second song to the queue").click()
    await page.get_by_role("button", name="add third song to the queue").click()
    await page.locator("[data-queue-toggle]").click()
    await page.wait_for_function("() => document.querySelectorAll('#queue-list li').length === 3")
    assert [t.split(" · ")[0] for t in await queue_titles(page)] == [
        "first song",
        "second song",
        "third song",
    ]
    # Drag the third onto the first.
    await page.locator("#queue-list li").nth(2).drag_to(page.locator("#queue-list li").nth(0))
    expected = ["third song", "first song", "second song"]
    assert [t.split(" · ")[0] for t in await queue_titles(page)] == expected
    # The server copy is saved shortly after a change: wait for it (bounded), then compare.
    saved: list[str] = []
    async with httpx.AsyncClient(
        base_url=plyr.url, cookies=await _cookies(listener), timeout=30
    ) as http:
        for _ in range(60):
            server = (await http.get("/api/queue")).json()
            saved = [t["title"] for t in server["tracks"]]
            if saved == expected:
                break
            await asyncio.sleep(0.25)
    assert saved == expected

    await page.reload()
    await page.locator("[data-queue-toggle]").click()
    await page.wait_for_function("() => document.querySelectorAll('#queue-list li').length === 3")
    assert [t.split(" · ")[0] for t in await queue_titles(page)] == expected
    await page.close()


async def _cookies(context: BrowserContext) -> dict[str, str]:
    return {c["name"]: c["value"] for c in await context.cookies()}


async def test_a_second_tab_follows_and_only_one_tab_plays(
    plyr: PlyrServer, listener: BrowserContext
) -> None:
    first = await listener.new_page()
    second = await listener.new_page()
    for page in (first, second):
        await page.goto(f"{plyr.url}/")
    await first.get_by_role("button", name="play second song").click()
    await first.wait_for_function("() => document.getElementById('player-audio').currentTime > 0.3")
    await first.get_by_role("button", name="add first song to the queue").click()
    # The other tab sees the change without a reload…
    await second.wait_for_function(
        "() => window.plyrPlayer.state().tracks.some((t) => t.title === 'first song')"
    )
    titles = await second.evaluate("window.plyrPlayer.state().tracks.map((t) => t.title)")
    assert titles == await first.evaluate("window.plyrPlayer.state().tracks.map((t) => t.title)")
    # …and starting playback there pauses the first tab.
    await second.locator('[data-player="toggle"]').click()
    await second.wait_for_function("() => !document.getElementById('player-audio').paused")
    await first.wait_for_function("() => document.getElementById('player-audio').paused")
    await first.close()
    await second.close()


async def test_stale_queue_write_is_refused(plyr: PlyrServer, listener: BrowserContext) -> None:
    cookies = await _cookies(listener)
    csrf = csrf_token(
        plyr.settings.secret_key_bytes(), hashlib.sha256(cookies[COOKIE_NAME].encode()).hexdigest()
    )
    async with httpx.AsyncClient(
        base_url=plyr.url, cookies=cookies, headers={"X-CSRF-Token": csrf}, timeout=30
    ) as http:
        # A page an earlier test closed may still have a save in flight: a write that meets
        # it is refused as stale too, so read again until this one goes through (bounded).
        for _ in range(20):
            current = (await http.get("/api/queue")).json()
            ids = [t["id"] for t in current["tracks"]]
            ok = await http.put(
                "/api/queue", json={"revision": current["revision"], "track_ids": ids[:1]}
            )
            if ok.status_code != 409:
                break
            await asyncio.sleep(0.5)
        assert ok.status_code == 200
        assert ok.json()["revision"] == current["revision"] + 1
        stale = await http.put(
            "/api/queue", json={"revision": current["revision"], "track_ids": ids}
        )
        assert stale.status_code == 409
        assert [t["id"] for t in stale.json()["tracks"]] == ids[:1]  # the newer queue comes back


async def test_theme_toggle_and_phone_layout(plyr: PlyrServer, listener: BrowserContext) -> None:
    page = await listener.new_page()
    await page.goto(f"{plyr.url}/")
    before = await page.evaluate("document.documentElement.dataset.theme")
    await page.locator("[data-theme-toggle]").click()
    after = await page.evaluate("document.documentElement.dataset.theme")
    assert after != before
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height, label in ((1280, 800, "desktop"), (375, 740, "phone")):
        await page.set_viewport_size({"width": width, "height": height})
        for path in PAGES:
            await page.goto(f"{plyr.url}{path}")
            await page.wait_for_load_state()
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px"
            name = path.strip("/").split("?")[0].replace("/", "-") or "home"
            await page.screenshot(path=ARTIFACTS / f"page-{name}-{label}.png", full_page=True)
    await page.close()


async def test_link_previews_embed_and_oembed(plyr: PlyrServer, listener: BrowserContext) -> None:
    async with plyr.runtime.sessions() as db:
        track_id = await db.scalar(select(Track.id).order_by(Track.id).limit(1))
    async with httpx.AsyncClient() as http:
        track = (await http.get(f"{plyr.url}/api/tracks/{track_id}")).json()
    page_url = f"{plyr.url}/tracks/{track['id']}"
    async with httpx.AsyncClient() as http:
        html = (await http.get(page_url)).text
        assert f'<meta property="og:title" content="{track["title"]}">' in html
        assert '<meta property="og:type" content="music.song">' in html
        assert f'<meta property="og:url" content="{page_url}">' in html
        assert '<meta name="twitter:card"' in html
        assert 'type="application/json+oembed"' in html

        oembed = await http.get(f"{plyr.url}/oembed", params={"url": page_url, "maxwidth": 400})
        assert oembed.status_code == 200
        data = oembed.json()
        assert data["type"] == "rich"
        assert data["version"] == "1.0"
        assert data["title"] == track["title"]
        assert data["width"] == 400
        assert f'src="{plyr.url}/embed/track/{track["id"]}"' in data["html"]
        assert (
            await http.get(f"{plyr.url}/oembed", params={"url": "https://evil.example/tracks/1"})
        ).status_code == 404
        assert (
            await http.get(f"{plyr.url}/oembed", params={"url": page_url, "format": "xml"})
        ).status_code == 501

        embed = await http.get(f"{plyr.url}/embed/track/{track['id']}")
        assert embed.status_code == 200
        assert "frame-ancestors *" in embed.headers["content-security-policy"]
        assert f'src="{track["audio_url"]}"' in embed.text

    # The embed plays inside another page's iframe.
    page = await listener.new_page()
    await page.goto(f"{plyr.url}/login")
    await page.evaluate(
        "(html) => document.querySelector('main').insertAdjacentHTML('afterbegin', html)",
        data["html"],
    )
    frame = page.frame_locator("iframe")
    await frame.locator("audio").evaluate("(audio) => audio.play()")
    await page.wait_for_timeout(800)
    assert await frame.locator("audio").evaluate("(audio) => audio.currentTime") > 0.2
    await page.close()


async def test_artist_page_and_portal(plyr: PlyrServer, listener: BrowserContext) -> None:
    async with httpx.AsyncClient(base_url=plyr.url) as http:
        page = await http.get("/artists/alice.test")
        assert page.status_code == 200
        for title in ("first song", "second song", "third song"):
            assert title in page.text
        assert '<meta property="og:type" content="profile">' in page.text
        assert (await http.get("/artists/nobody.test")).status_code == 404
        anonymous = await http.get("/portal", headers={"Accept": "text/html"})
        assert anonymous.status_code == 303
        assert anonymous.headers["location"].startswith("/login")
    browser_page = await listener.new_page()
    await browser_page.goto(f"{plyr.url}/portal")
    assert await browser_page.get_by_role("heading", name="my tracks").is_visible()
    # Within the page: the player bar (restored from an earlier test's queue) may name it too.
    mine = browser_page.locator("main").get_by_role("link", name="first song")
    assert await mine.is_visible()
    await mine.click()
    await browser_page.wait_for_url(f"{plyr.url}/tracks/*")
    track_heading = await browser_page.locator("main h1").inner_text()
    assert track_heading == "first song"
    await browser_page.locator("main .track-head").get_by_role("link").first.click()
    await browser_page.wait_for_url(f"{plyr.url}/artists/*")
    assert "@alice.test" in await browser_page.locator("main").inner_text()
    await browser_page.close()


async def test_accent_colour_and_player_preferences_persist(
    plyr: PlyrServer, listener: BrowserContext
) -> None:
    page = await listener.new_page()
    await page.goto(f"{plyr.url}/settings")

    # Signed in, each change is saved on the server as it is made (wait for each save).
    def saved(response: Response) -> bool:
        return response.url.endswith("/api/preferences") and response.request.method == "PATCH"

    async with page.expect_response(saved):
        await page.get_by_label("accent colour").fill("#ff8800")
    accent = "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"
    assert await page.evaluate(accent) == "#ff8800"
    async with page.expect_response(saved):
        await page.get_by_label("play the next track when one ends").uncheck()
    await page.reload()
    assert await page.evaluate(accent) == "#ff8800"  # applied before first paint, every page
    assert not await page.get_by_label("play the next track when one ends").is_checked()
    assert await page.evaluate("localStorage.getItem('plyr.autoadvance')") == "off"
    await page.get_by_role("button", name="reset").click()
    assert await page.evaluate(accent) == "#7c9cff"
    await page.get_by_label("play the next track when one ends").check()
    await page.close()
