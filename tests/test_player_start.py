"""A click on ▶ in Chromium: the sound starts without waiting for the track's details
(GET /api/tracks/{id}); the queue, the listen that counts the play and now playing follow
once they come, each once; a track that turns out unavailable gives the element back to
the queue's track."""

from __future__ import annotations

import json
import re

import pytest
from playwright.async_api import BrowserContext, Page, Request, Route

from tests.support.plyr_server import PlyrServer
from tests.test_player import listener, plyr  # noqa: F401 - the same server and listener

pytestmark = pytest.mark.browser

DETAILS = re.compile(r"/api/tracks/\d+$")
AUDIO = "document.getElementById('player-audio')"


async def fresh_page(context: BrowserContext, url: str) -> Page:
    page = await context.new_page()
    await page.goto(url)
    await page.evaluate("localStorage.removeItem('plyr.queue')")
    await page.reload()
    await page.wait_for_function("() => window.plyrPlayer !== undefined")
    return page


async def test_sound_starts_before_the_details_and_the_rest_follows_once(
    plyr: PlyrServer,  # noqa: F811
    listener: BrowserContext,  # noqa: F811
) -> None:
    page = await fresh_page(listener, f"{plyr.url}/")
    held: list[Route] = []

    async def hold(route: Route) -> None:
        held.append(route)

    await page.route(DETAILS, hold)
    reports: list[Request] = []
    page.on(
        "request",
        lambda r: reports.append(r) if re.search(r"/listens$|/now-playing$", r.url) else None,
    )
    button = page.get_by_role("button", name="play second song")
    track_id = int(await button.get_attribute("data-play-track") or 0)
    await button.click()
    # Sound while the details are held back: nothing counted or reported for it yet.
    await page.wait_for_function(f"() => {AUDIO}.currentTime > 0.3")
    assert len(held) == 1
    assert reports == []
    assert await page.evaluate("window.plyrPlayer.state().tracks.length") == 0
    await held[0].continue_()
    await page.wait_for_function(
        f"() => window.plyrPlayer.state().tracks.map((t) => t.id).join() === '{track_id}'"
    )
    await page.wait_for_function(f"() => !{AUDIO}.paused")
    await page.wait_for_timeout(500)
    listens = [r for r in reports if r.url.endswith("/listens")]
    assert [r.url for r in listens] == [f"{plyr.url}/api/tracks/{track_id}/listens"]
    now_playing = [json.loads(r.post_data or "{}") for r in reports if r.method == "PUT"]
    assert now_playing
    assert {report["track_id"] for report in now_playing} == {track_id}
    assert "second song" in await page.locator("#player .player-title").inner_text()
    await page.close()


async def test_an_unavailable_track_gives_the_element_back(
    plyr: PlyrServer,  # noqa: F811
    listener: BrowserContext,  # noqa: F811
) -> None:
    page = await fresh_page(listener, f"{plyr.url}/")
    first = page.get_by_role("button", name="play first song")
    first_id = await first.get_attribute("data-play-track")
    await first.click()
    await page.wait_for_function(f"() => {AUDIO}.currentTime > 1")
    queue = "window.plyrPlayer.state().tracks.map((t) => t.title)"
    before = await page.evaluate(queue)
    await page.evaluate(
        """document.querySelector("main").insertAdjacentHTML("beforeend",
        '<button type="button" data-play-track="999999">gone</button>')"""
    )
    await page.get_by_role("button", name="gone").click()
    await page.get_by_text("that track is not available").wait_for()
    # The queue's track again, playing on from about where it was.
    await page.wait_for_function(f"() => {AUDIO}.dataset.trackId === '{first_id}'")
    await page.wait_for_function(f"() => !{AUDIO}.paused && {AUDIO}.currentTime > 1")
    assert await page.evaluate(queue) == before  # nothing joined it
    current = "window.plyrPlayer.state().tracks[window.plyrPlayer.state().current].title"
    assert await page.evaluate(current) == "first song"
    await page.close()
