"""Jams in Chromium: signed-in listeners' pages, the drift between two pages' jam players
measured against the machine's clock, and a second `plyr serve` on the same PostgreSQL
(the tests of plyr.listening.jams and bench/jam_drift.py use them)."""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, Page

SESSION_COOKIE = "plyr_session"
JAM_AUDIO = "document.getElementById('jam-audio')"
# One reading of a page: its clock (ms since the epoch: the same machine's clock in every
# page) and its jam player's position.
_READ = f"""() => {{
  const a = {JAM_AUDIO};
  return {{ now: performance.timeOrigin + performance.now(), at: a.currentTime * 1000,
            paused: a.paused, rate: a.playbackRate }};
}}"""


async def listener_context(
    browser: Browser, base: str, cookie: str, width: int = 1280
) -> BrowserContext:
    """A browser context signed in with `cookie` (a session of plyr at `base`)."""
    context = await browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(20_000)
    host = urlsplit(base).hostname or "127.0.0.1"
    await context.add_cookies(
        [{"name": SESSION_COOKIE, "value": cookie, "domain": host, "path": "/"}]
    )
    return context


async def start_listening(page: Page) -> None:
    """Wait until the page's jam player sounds, pressing "listen" if the browser wanted a
    gesture first (a page opened without a click may not play sound on its own)."""
    listen = page.locator("[data-jam-listen]")
    await page.wait_for_function(
        f"() => !{JAM_AUDIO}.paused || !document.querySelector('[data-jam-listen]').hidden"
    )
    if await listen.is_visible():
        await listen.click()
    await playing(page)


async def playing(page: Page, past_ms: float = 300) -> None:
    await page.wait_for_function(
        f"() => !{JAM_AUDIO}.paused && {JAM_AUDIO}.currentTime * 1000 > {past_ms}"
    )


@dataclass(frozen=True)
class Drift:
    samples: list[float]  # |page a - page b| in ms, one per pair of readings
    clocks: str = ""  # each page's estimate of its clock's offset from the server's (± rtt/2)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def worst(self) -> float:
        return max(self.samples)


async def _start_of_track(page: Page) -> float:
    """When, by this page's player, its track started: clock - position (constant while it
    plays at rate 1; the drift between two pages is the difference of theirs)."""
    reading = await page.evaluate(_READ)
    return float(reading["now"] - reading["at"])


async def measure_drift(a: Page, b: Page, seconds: float, every: float = 0.1) -> Drift:
    """Sample both pages' players for `seconds`: each pair's difference in where they are."""
    samples: list[float] = []
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while loop.time() < until:
        first, second = await asyncio.gather(_start_of_track(a), _start_of_track(b))
        samples.append(abs(first - second))
        await asyncio.sleep(every)  # the sampling rate, not a wait for anything
    clocks = [await _clock(page) for page in (a, b)]
    return Drift(samples, "; ".join(clocks))


async def _clock(page: Page) -> str:
    found = await page.evaluate(
        "() => { const d = document.querySelector('[data-jam]').dataset;"
        " return [d.clockOffset, d.clockRtt]; }"
    )
    return f"offset {found[0]} ms (rtt {found[1]} ms)"


async def settled(
    a: Page, b: Page, within_ms: float, *, readings: int = 5, within_s: float = 30.0
) -> None:
    """Wait until the two pages are within `within_ms` of each other for `readings`
    readings in a row: past the first seconds of a join or a seek (loading, the clock
    estimate, the seek itself, the rate nudges that close the rest)."""
    in_a_row = 0
    async with asyncio.timeout(within_s):
        while in_a_row < readings:
            first, second = await asyncio.gather(_start_of_track(a), _start_of_track(b))
            in_a_row = in_a_row + 1 if abs(first - second) <= within_ms else 0
            await asyncio.sleep(0.05)
