"""The web player's queue from a test's side: short real tracks published through plyr's
API (so a track's end comes within a second), and reading the queue, what played to its
end, and driving a touch screen (Chrome DevTools Protocol touch events, which Chromium turns
into the same pointer events a finger makes).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
from playwright.async_api import Browser, BrowserContext, Page

from plyr.atproto.devnet import Network
from plyr.auth.sessions import COOKIE_NAME, csrf_token
from tests.support.audio import make_audio
from tests.support.browser import sign_in_to_plyr
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import upload_published

TITLES = ("alpha tone", "bravo tone", "charlie tone", "delta tone")
SECONDS = 1.2  # each track; the tests also play at RATE times the speed
RATE = 2.0
AUDIO = "document.getElementById('player-audio')"
STATE = "window.plyrPlayer.state()"


async def publish_short_tracks(
    browser: Browser, plyr: PlyrServer, net: Network, folder: Path
) -> tuple[BrowserContext, dict[str, int]]:
    """Alice, signed in, publishes TITLES (SECONDS long each, different pitches); returns
    her browser context and the tracks' ids by title."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    cookie = await sign_in_to_plyr(page, plyr.url, "alice.test", net.account("alice.test").password)
    await page.close()
    csrf = csrf_token(plyr.settings.secret_key_bytes(), hashlib.sha256(cookie.encode()).hexdigest())
    ids: dict[str, int] = {}
    async with httpx.AsyncClient(
        base_url=plyr.url,
        cookies={COOKIE_NAME: cookie},
        headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
        timeout=60,
    ) as http:
        for index, title in enumerate(TITLES):
            source = make_audio(
                folder / f"{index}.mp3", "mp3", seconds=SECONDS, freq=330 + 110 * index
            )
            track = await upload_published(http, source, title=title)
            ids[title] = int(track["id"])
    return context, ids


async def fresh_page(context: BrowserContext, url: str) -> Page:
    """A page at `url` with an empty queue in this browser (no server copy: signed out)."""
    page = await context.new_page()
    await page.goto(url)
    await page.evaluate("localStorage.removeItem('plyr.queue')")
    await page.reload()
    await page.wait_for_function("() => window.plyrPlayer !== undefined")
    return page


async def queue_ids(page: Page) -> list[int]:
    ids: list[int] = await page.evaluate(f"{STATE}.tracks.map((t) => t.id)")
    return ids


async def current_id(page: Page) -> int:
    track: int = await page.evaluate(f"{STATE}.tracks[{STATE}.current].id")
    return track


async def wait_for_queue(page: Page, ids: list[int]) -> None:
    wanted = ",".join(str(i) for i in ids)
    await page.wait_for_function(f"() => {STATE}.tracks.map((t) => t.id).join() === '{wanted}'")


async def record_endings(page: Page) -> None:
    """From now on, `window.ended` lists each track that played to its end, in order; the
    element plays at RATE (every new source too)."""
    await page.evaluate(
        f"""() => {{
        const audio = {AUDIO};
        window.ended = [];
        audio.defaultPlaybackRate = {RATE};
        audio.playbackRate = {RATE};
        // Captured on the way down, before the player's own listener moves to the next track.
        const heard = (event) => {{
            const deck = event.target;
            if (deck.id === "player-audio") window.ended.push(Number(deck.dataset.trackId));
        }};
        if (!window.recording) window.addEventListener("ended", heard, true);
        window.recording = true;
    }}"""
    )


async def endings(page: Page, count: int) -> list[int]:
    """The first `count` tracks that played to their end (waits for them)."""
    await page.wait_for_function(f"() => window.ended.length >= {count}", timeout=30_000)
    played: list[int] = await page.evaluate("window.ended")
    return played[:count]


async def pause(page: Page) -> None:
    """Paused mid-track. A pause just as the track ends does not hold: its `ended` comes
    after and moves on (or repeats it), so pause again until it holds away from the end."""
    await page.wait_for_function(
        f"""() => {{
        const audio = {AUDIO};
        if (!audio.paused) audio.pause();
        return audio.paused && !audio.ended && audio.currentTime < audio.duration - 0.05;
    }}"""
    )


async def touch_drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A finger down at `start`, moving to `end` in steps, lifted there."""
    cdp = await page.context.new_cdp_session(page)
    (x0, y0), (x1, y1) = start, end
    await cdp.send(
        "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]}
    )
    steps = 8
    for step in range(1, steps + 1):
        x, y = x0 + (x1 - x0) * step / steps, y0 + (y1 - y0) * step / steps
        await cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]}
        )
    await cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    await cdp.detach()
