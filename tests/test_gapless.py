"""Gapless playback and crossfades in Chromium, measured on what the player sounds like.

A real plyr (web + worker, SQLite, local files) and real uploads: sine tones as WAV and
FLAC (no codec padding, so a gap is the player's). The page's two decks are routed through
an AudioWorklet tap (tests/support/gapless_tap.py) that records every silent run sample by
sample: gapless, each step is a scheduled transition and leaves only a short silence (the
issue's 20 ms is a figure measured on a quiet machine by bench/gapless.py; here, on a
loaded CI machine, the bound is loose). A crossfade keeps
the power steady (equal-power curves, each deck at its own track's level), and pausing in
the middle of one stops the outgoing track. The queue, the bar, the media session and play
counting move to each new track as any advance does. The settings page's controls work by
keyboard and save; screenshots at 1280 and 375 px, dark and light.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page

from plyr.atproto.devnet import Network
from plyr.auth.sessions import COOKIE_NAME
from tests.conftest import devnet_settings
from tests.support.audio import make_audio
from tests.support.browser import ARTIFACTS
from tests.support.gapless_tap import listening_page, play_until
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, sign_in, upload_published

pytestmark = pytest.mark.browser

# Not the target (bench/gapless.py measures that on a quiet machine): a loaded CI machine
# has delayed a start by 50 ms. That the step is a scheduled gapless one, not an advance
# at `ended`, is asserted from the player's own record below.
GAP_LIMIT_MS = 100.0
SECONDS = 3.0  # each gapless tone
FADE_TRACK_SECONDS = 6.0
FADE_SECONDS = 3


@dataclass
class Library:
    alice: SignedIn
    gapless: list[int]  # WAV, WAV, FLAC
    fading: list[int]  # two WAVs for the crossfade


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    folder = tmp_path_factory.mktemp("plyr-gapless")
    settings = devnet_settings(folder, f"sqlite+aiosqlite:///{folder / 'plyr.db'}", atproto_net)
    async with running_plyr(settings, worker=True) as server:
        yield server


@pytest.fixture(scope="module")
async def library(
    browser: Browser,
    plyr: PlyrServer,
    atproto_net: Network,
    tmp_path_factory: pytest.TempPathFactory,
) -> Library:
    alice = await sign_in(browser, plyr, atproto_net, "alice.test")
    folder = tmp_path_factory.mktemp("gapless-audio")
    tones = [
        ("gapless a", "wav", SECONDS, 330.0),
        ("gapless b", "wav", SECONDS, 440.0),
        ("gapless c", "flac", SECONDS, 550.0),
        ("fade out", "wav", FADE_TRACK_SECONDS, 392.0),
        ("fade in", "wav", FADE_TRACK_SECONDS, 523.0),
    ]
    ids = []
    async with alice.client(plyr) as http:
        for n, (title, fmt, seconds, freq) in enumerate(tones):
            source = make_audio(folder / f"{n}.{fmt}", fmt, seconds=seconds, freq=freq)
            ids.append(int((await upload_published(http, source, title=title))["id"]))
    return Library(alice, ids[:3], ids[3:])


async def open_player(
    browser: Browser, plyr: PlyrServer, alice: SignedIn, prefs: dict[str, Any], ids: list[int]
) -> tuple[BrowserContext, Page]:
    async with alice.client(plyr) as http:
        return await listening_page(browser, plyr.url, alice.cookie, http, prefs, ids)


async def test_gapless_transitions_have_no_gap(
    browser: Browser, plyr: PlyrServer, library: Library
) -> None:
    context, page = await open_player(
        browser, plyr, library.alice, {"transition": "gapless"}, library.gapless
    )
    listens: list[str] = []
    page.on("request", lambda r: listens.append(r.url) if r.url.endswith("/listens") else None)
    report = await play_until(page, "gapless c", 1, 3 * SECONDS + 20)
    gaps, glitches = report.gaps(SECONDS, transitions=2)
    steps = await page.evaluate("window.transitions")
    print(f"gapless WAV→WAV, WAV→FLAC: silences {gaps} ms, elsewhere {glitches}; {steps}")
    assert max(gaps) <= GAP_LIMIT_MS, (gaps, report.runs_ms)
    # Tones of 3 s back to back, the third heard 1 s: 7 s of sound, nothing lost or doubled.
    assert report.sounding_s == pytest.approx(2 * SECONDS + 1, abs=0.4), report.sounding_s

    # Each step was a transition, as an advance: the queue, the bar, media session, listens.
    a, b, c = library.gapless
    assert [(s["kind"], s["from"], s["to"]) for s in steps] == [
        ("gapless", a, b),
        ("gapless", b, c),
    ]
    assert await page.locator("#queue-list li").nth(2).get_attribute("aria-current") == "true"
    assert await page.evaluate("navigator.mediaSession.metadata.title") == "gapless c"
    assert [url.rsplit("/", 2)[-2] for url in listens] == [str(a), str(b), str(c)]
    # The deck that plays is #player-audio; the other one is idle.
    state = await page.evaluate(
        """() => ({
          playing: !document.getElementById('player-audio').paused,
          idle: document.getElementById('player-audio-next').paused,
          track: document.getElementById('player-audio').dataset.trackId,
        })"""
    )
    assert state == {"playing": True, "idle": True, "track": str(c)}
    await context.close()


async def test_crossfade_keeps_the_power_and_a_pause_stops_the_outgoing(
    browser: Browser, plyr: PlyrServer, library: Library
) -> None:
    context, page = await open_player(
        browser,
        plyr,
        library.alice,
        {"transition": "crossfade", "crossfade_seconds": FADE_SECONDS},
        library.fading,
    )
    report = await play_until(page, "fade in", FADE_SECONDS + 1, 2 * FADE_TRACK_SECONDS + 20)
    # The second starts 3 s before the first ends and is heard 4 s: 7 s of sound, not 10.
    assert report.sounding_s == pytest.approx(FADE_TRACK_SECONDS + 1, abs=0.5), report.sounding_s
    assert report.longest_ms() <= GAP_LIMIT_MS, report.runs_ms
    # Equal power: two uncorrelated tones at cos and sin of the same level sum to it
    # (in 50 ms windows: the two tones beat within shorter ones).
    power = [value**2 for value in report.rms[10:-10]]
    windows = [math.sqrt(sum(power[i : i + 5]) / 5) for i in range(0, len(power) - 4, 5)]
    steady = report.steady_rms()
    levels = [20 * math.log10(value / steady) for value in windows if value > 0]
    print(f"crossfade: RMS within {min(levels):+.2f} / {max(levels):+.2f} dB of steady")
    assert min(levels) > -3, levels
    assert max(levels) < 3, levels
    await context.close()

    # Pausing in the middle: the outgoing deck stops and the current one is at its level.
    context, page = await open_player(
        browser,
        plyr,
        library.alice,
        {"transition": "crossfade", "crossfade_seconds": FADE_SECONDS},
        library.fading,
    )
    await page.get_by_role("button", name="play", exact=True).click()
    await page.wait_for_function(
        """() => document.querySelector('#player .player-title').textContent === 'fade in'
             && document.getElementById('player-audio').currentTime > 1"""
    )
    middle = await page.evaluate(
        """() => {
          const now = document.getElementById('player-audio');
          const out = document.getElementById('player-audio-next');
          const level = (track) => Math.min(1, 10 ** (Number(track.gain_db || 0) / 20));
          const [first, second] = window.plyrPlayer.state().tracks;
          return {
            now: now.volume / level(second), out: out.volume / level(first), playing: !out.paused,
            level: level(second),
          };
        }"""
    )
    assert middle["playing"], middle
    assert middle["now"] ** 2 + middle["out"] ** 2 == pytest.approx(1, abs=0.08), middle
    assert 0.2 < middle["now"] < 0.98, middle
    await page.get_by_role("button", name="pause", exact=True).click()
    # The outgoing deck is let go (at the `pause` event, a task after the click).
    await page.wait_for_function(
        "() => !document.getElementById('player-audio-next').hasAttribute('src')"
    )
    after = await page.evaluate(
        """() => ({
          out: document.getElementById('player-audio-next').paused,
          paused: document.getElementById('player-audio').paused,
          title: document.querySelector('#player .player-title').textContent,
          level: document.getElementById('player-audio').volume,
        })"""
    )
    level = middle["level"]
    assert after == {"out": True, "paused": True, "title": "fade in", "level": level}
    # Played again: the track that faded in, at its own level, alone.
    await page.get_by_role("button", name="play", exact=True).click()
    await page.wait_for_function("() => !document.getElementById('player-audio').paused")
    assert await page.evaluate("document.getElementById('player-audio-next').paused")
    await context.close()


async def test_the_setting_by_keyboard_with_screenshots(
    browser: Browser, plyr: PlyrServer, library: Library
) -> None:
    async with library.alice.client(plyr) as http:
        await http.patch("/api/preferences", json={"transition": "off", "crossfade_seconds": 6})
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    await context.add_cookies(
        [{"name": COOKIE_NAME, "value": library.alice.cookie, "url": plyr.url}]
    )
    page = await context.new_page()
    await page.goto(f"{plyr.url}/settings")
    group = page.get_by_role("group", name="between tracks")
    await group.get_by_role("radio", name="off").focus()
    async with page.expect_response(lambda r: '"transition"' in (r.request.post_data or "")):
        await page.keyboard.press("ArrowDown")  # a radio group moves and checks by arrows
    assert await group.get_by_role("radio", name="gapless").is_checked()
    async with page.expect_response(lambda r: '"transition"' in (r.request.post_data or "")):
        await page.keyboard.press("ArrowDown")
    assert await group.get_by_role("radio", name="crossfade").is_checked()
    seconds = page.get_by_role("spinbutton", name="crossfade length in seconds")
    await seconds.focus()
    async with page.expect_response(
        lambda r: '"crossfade_seconds"' in (r.request.post_data or "")
    ) as answer:
        await page.keyboard.press("ArrowUp")
        await page.keyboard.press("Tab")  # `change` comes when the field is left
    assert (await answer.value).ok
    await page.wait_for_function("localStorage.getItem('plyr.crossfade') === '7'")
    async with library.alice.client(plyr) as http:
        saved = (await http.get("/api/preferences")).json()
    assert (saved["transition"], saved["crossfade_seconds"]) == ("crossfade", 7)
    assert await page.evaluate(
        "[localStorage.getItem('plyr.transition'), localStorage.getItem('plyr.crossfade')]"
    ) == ["crossfade", "7"]

    # Out of range by typing: refused with the field's message, nothing changes.
    async with library.alice.client(plyr) as http:
        refused = await http.patch("/api/preferences", json={"crossfade_seconds": 30})
    assert refused.status_code == 422

    # The "saved" toast fades on its own; the screenshots show the section without it.
    await page.locator(".pref-status.is-shown").wait_for(state="hidden")
    section = page.locator("section[aria-labelledby='player-heading']")
    for width in (1280, 375):
        await page.set_viewport_size({"width": width, "height": 900})
        for theme in ("dark", "light"):
            await page.evaluate("(t) => (document.documentElement.dataset.theme = t)", theme)
            await section.scroll_into_view_if_needed()
            await section.screenshot(path=ARTIFACTS / f"gapless-settings-{width}-{theme}.png")
    await context.close()
