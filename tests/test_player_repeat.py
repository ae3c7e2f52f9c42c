"""Repeat and shuffle in Chromium, at the end of real (short) tracks: repeat one plays the
track again while "next" still moves on, repeat all goes round, repeat off stops at the end;
shuffle plays every track exactly once (tracks added meanwhile included) before any plays
again, draws a new order for each round with repeat all, and turned off goes on in the
listed order from the current track."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from plyr.atproto.devnet import Network
from tests.support.plyr_server import PlyrServer
from tests.support.queue_player import (
    AUDIO,
    STATE,
    current_id,
    endings,
    pause,
    publish_short_tracks,
    record_endings,
    wait_for_queue,
)
from tests.test_player import plyr  # noqa: F401 - a plyr with a worker, on the devnet

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
async def tracks(
    browser: Browser,
    plyr: PlyrServer,  # noqa: F811
    atproto_net: Network,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[dict[str, int]]:
    context, ids = await publish_short_tracks(
        browser, plyr, atproto_net, tmp_path_factory.mktemp("repeat-audio")
    )
    await context.close()
    return ids


async def queue_up(page: Page, url: str, titles: list[str]) -> None:
    """A signed-out page with `titles` added from the home page's rows, the panel open."""
    await page.goto(f"{url}/")
    await page.wait_for_function("() => window.plyrPlayer !== undefined")
    main = page.locator("main")
    for title in titles:
        await main.get_by_role("button", name=f"add {title} to the queue").first.click()
    await page.wait_for_function(f"() => {STATE}.tracks.length === {len(titles)}")
    await page.get_by_role("button", name="queue", exact=True).click()
    await record_endings(page)


async def set_repeat(page: Page, mode: str) -> None:
    repeat = page.locator("#queue-panel [data-queue-repeat]")
    for _ in range(3):
        if await repeat.inner_text() == f"repeat {mode}":
            break
        await repeat.click()
    await expect(repeat).to_have_text(f"repeat {mode}")
    await expect(repeat).to_have_attribute("aria-pressed", "false" if mode == "off" else "true")


async def play_from_panel(page: Page, title: str) -> None:
    await (
        page.locator("#queue-panel").get_by_role("button", name=f"play {title}", exact=True).click()
    )


async def test_repeat_one_all_and_off(
    plyr: PlyrServer,  # noqa: F811
    page: Page,
    tracks: dict[str, int],
) -> None:
    alpha, bravo = tracks["alpha tone"], tracks["bravo tone"]
    await queue_up(page, plyr.url, ["alpha tone", "bravo tone"])
    await set_repeat(page, "all")
    await set_repeat(page, "one")  # the button goes off → all → one

    # Repeat one: the track plays again at its end…
    await play_from_panel(page, "alpha tone")
    assert await endings(page, 2) == [alpha, alpha]
    assert await current_id(page) == alpha
    # …while "next" moves on.
    await page.get_by_role("button", name="next track").click()
    await page.wait_for_function(f"() => {AUDIO}.dataset.trackId === '{bravo}' && !{AUDIO}.paused")
    await pause(page)

    # Repeat all: round the queue.
    await set_repeat(page, "all")
    await page.evaluate("window.ended = []")
    await play_from_panel(page, "alpha tone")
    assert await endings(page, 3) == [alpha, bravo, alpha]
    await pause(page)

    # Repeat off: the last track ends and nothing follows.
    await set_repeat(page, "off")
    await page.evaluate("window.ended = []")
    await play_from_panel(page, "bravo tone")
    await page.wait_for_function(f"() => {AUDIO}.ended && {AUDIO}.paused")
    assert await page.evaluate("window.ended") == [bravo]
    assert await current_id(page) == bravo


async def test_shuffle_plays_everything_once_per_round(
    plyr: PlyrServer,  # noqa: F811
    page: Page,
    tracks: dict[str, int],
) -> None:
    titles = ["alpha tone", "bravo tone", "charlie tone"]
    await queue_up(page, plyr.url, titles)
    everything = sorted(tracks.values())
    shuffle = page.locator("#queue-panel").get_by_role("button", name="shuffle")
    await shuffle.click()
    await expect(shuffle).to_have_attribute("aria-pressed", "true")
    # Shuffle on: the current track stays first, the rest is a permutation after it.
    order = await page.evaluate(f"{STATE}.order")
    assert order[0] == 0
    assert sorted(order) == [0, 1, 2]
    # A track added now joins the part still to play (the panel closed: it covers the rows).
    await page.locator("#queue-panel").get_by_role("button", name="close the queue").click()
    main = page.locator("main")
    await main.get_by_role("button", name="add delta tone to the queue").first.click()
    await wait_for_queue(page, [tracks[t] for t in (*titles, "delta tone")])
    await page.get_by_role("button", name="queue", exact=True).click()

    # Repeat off: each track once, from the current one, then silence.
    await page.get_by_role("button", name="play", exact=True).click()
    await page.wait_for_function(
        f"() => {AUDIO}.ended && {AUDIO}.paused && window.ended.length >= 4"
    )
    once = await page.evaluate("window.ended")
    assert len(once) == 4, once
    assert sorted(once) == everything, once
    assert once[0] == tracks["alpha tone"]

    # Repeat all: round after round, each a permutation, drawn anew.
    await set_repeat(page, "all")
    await page.evaluate("window.ended = []")
    await page.get_by_role("button", name="next track").click()
    rounds = await endings(page, 12)
    await pause(page)
    for start in range(0, 12, 4):
        assert sorted(rounds[start : start + 4]) == everything, rounds
    # A new round does not start with the track just heard.
    assert rounds[0] != once[-1]
    assert rounds[4] != rounds[3]
    assert rounds[8] != rounds[7]
    shown = await page.evaluate(f"{STATE}.order.map((i) => {STATE}.tracks[i].id)")
    assert sorted(shown) == everything

    # Shuffle off: on in the listed order from the current track.
    listed = await page.evaluate(f"{STATE}.tracks.map((t) => t.id)")
    here = await current_id(page)
    await shuffle.click()
    await expect(shuffle).to_have_attribute("aria-pressed", "false")
    assert await current_id(page) == here
    await page.get_by_role("button", name="next track").click()
    after = listed[(listed.index(here) + 1) % len(listed)]
    await page.wait_for_function(f"() => {AUDIO}.dataset.trackId === '{after}'")
    await pause(page)
