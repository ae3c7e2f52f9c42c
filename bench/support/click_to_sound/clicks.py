"""Clicks on a track page's play button in headless Chromium, timed in the page: from the
click event's own time stamp (`event.timeStamp`, on `performance.now()`'s clock) to the
<audio> element's `playing`, with the media events between them for the why.

The click is a real one (Playwright's mouse, so the page gets a user activation: no
autoplay flag is needed). Each page is opened and left alone a moment after its scripts
ran, as a listener reads a page before clicking.

A `Player` may stand in other versions of the player's scripts (`from_revision`: as a git
revision had them), served to the browser in place of plyr's, so a change to the player is
measured beside what it replaced, in one run, against the same server.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, Page, Route

from plyr.auth.sessions import COOKIE_NAME

# Installed before any of the page's scripts: the capture phase sees the click before the
# player's own listener, and media events (which do not bubble) on their way down.
TIMING_SCRIPT = """
(() => {
  const seen = (window.__clickToSound = { clicks: [], pending: null });
  const EVENTS = ["loadstart", "loadedmetadata", "canplay", "playing"];
  document.addEventListener("click", (event) => {
    if (event.target.closest?.("[data-play-track]")) seen.pending = { at: event.timeStamp };
  }, true);
  for (const name of EVENTS) {
    document.addEventListener(name, (event) => {
      const click = seen.pending;
      if (!click || !(event.target instanceof HTMLMediaElement) || name in click) return;
      click[name] = performance.now() - click.at;
      if (name === "playing") {
        seen.clicks.push(click);
        seen.pending = null;
      }
    }, true);
  }
})();
"""
PLAY_BUTTON = "main [data-play-track]"
SETTLE_SECONDS = 0.5
PLAYING_TIMEOUT_MS = 20_000


PLAYER_SCRIPTS = "src/plyr/web/static/js"  # player.js and player/*.js under it


@dataclass(frozen=True)
class Player:
    """The player the browser runs: plyr's own, or other scripts by path under /static/js."""

    name: str
    scripts: dict[str, str] = field(default_factory=dict)  # "player/playback.js" → source


def from_revision(root: Path, revision: str) -> Player:
    """The player's scripts as `revision` of the repository at `root` had them."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
        ).stdout

    names = ["player.js"] + [
        path.removeprefix(f"{PLAYER_SCRIPTS}/")
        for path in git("ls-tree", "--name-only", revision, f"{PLAYER_SCRIPTS}/player/").split()
    ]
    return Player(
        f"before ({revision})",
        {name: git("show", f"{revision}:{PLAYER_SCRIPTS}/{name}") for name in names},
    )


@dataclass
class Click:
    track_id: int
    playing_ms: float
    phases: dict[str, float] = field(default_factory=dict)  # media event → ms after click


async def listener_context(
    browser: Browser, base: str, cookie: str, player: Player
) -> BrowserContext:
    """A browser profile of its own (empty cache, empty localStorage), signed in, running
    `player`."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    await context.add_cookies([{"name": COOKIE_NAME, "value": cookie, "url": base}])
    await context.add_init_script(TIMING_SCRIPT)
    for name, source in player.scripts.items():
        await context.route(f"{base}/static/js/{name}", _serving(source))
    return context


def _serving(source: str) -> Callable[[Route], Awaitable[None]]:
    # One argument: Playwright hands the request too to a handler that takes two.
    async def serve(route: Route) -> None:
        await route.fulfill(body=source, content_type="text/javascript; charset=utf-8")

    return serve


async def click_play(context: BrowserContext, base: str, track_id: int) -> Click:
    """Open the track's page in a new tab, click its play button, wait for `playing`."""
    page = await context.new_page()
    try:
        await page.goto(f"{base}/tracks/{track_id}", wait_until="load")
        await page.wait_for_function("() => window.plyrPlayer !== undefined")
        await asyncio.sleep(SETTLE_SECONDS)
        await page.click(PLAY_BUTTON)
        await page.wait_for_function(
            "() => window.__clickToSound.clicks.length > 0", timeout=PLAYING_TIMEOUT_MS
        )
        return await _timed(page, track_id)
    finally:
        await page.close()


async def _timed(page: Page, track_id: int) -> Click:
    seen = await page.evaluate("() => window.__clickToSound.clicks[0]")
    phases = {name: float(value) for name, value in seen.items() if name != "at"}
    return Click(track_id, phases.pop("playing"), phases)


async def cold_clicks(
    browser: Browser, base: str, cookie: str, tracks: list[int], players: list[Player]
) -> dict[str, list[Click]]:
    """Each track's first play in a browser profile, with each player (taking turns at
    going first): nothing cached, a page just opened."""
    clicks: dict[str, list[Click]] = {player.name: [] for player in players}
    for turn, track_id in enumerate(tracks):
        for player in players[turn % len(players) :] + players[: turn % len(players)]:
            context = await listener_context(browser, base, cookie, player)
            try:
                clicks[player.name].append(await click_play(context, base, track_id))
            finally:
                await context.close()
    return clicks


async def warm_clicks(
    browser: Browser, base: str, cookie: str, tracks: list[int], players: list[Player]
) -> dict[str, list[Click]]:
    """Each track played once before in the same profile (its page, its audio cached),
    then played again from a freshly opened page; a profile per player, the clicks taking
    turns."""
    contexts = [await listener_context(browser, base, cookie, player) for player in players]
    try:
        for context in contexts:
            for track_id in tracks:
                await click_play(context, base, track_id)
        clicks: dict[str, list[Click]] = {player.name: [] for player in players}
        for track_id in tracks:
            for player, context in zip(players, contexts, strict=True):
                clicks[player.name].append(await click_play(context, base, track_id))
        return clicks
    finally:
        for context in contexts:
            await context.close()
