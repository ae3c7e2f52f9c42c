"""The pages' side of issue 19: home, track and artist pages as visitors meet them (the
signed-out page cache on) and as they are rendered (the cache emptied before every
request: what a signed-in visitor, or the first visitor of a page, waits for), each
against its bare query; and home's requests per second with 50 clients both ways."""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from plyr.web.shared import page_cache
from support.read_paths.measure import PathResult, percentile

PAGES = ("home", "track", "artist")
UNCACHED = tuple(f"{page}-uncached" for page in PAGES)
TARGET_RATIO = 2.0  # page p50 at most twice its bare query's
BASELINE_RPS = 86.0  # home with 50 clients when issue 19 was filed
TARGET_RPS = 3 * BASELINE_RPS
BEFORE = {"home": 5.5, "track": 13.9, "artist": 6.6}  # app/bare when issue 19 was filed
BEFORE_STATEMENTS = {"home": 3, "track": 7, "artist": 8}


class Served:
    """`url_for` noting the page cache's hits before each request: `measure_path` asks for
    a probe, the warm-up and then the measured requests, in that order."""

    def __init__(self, app: FastAPI, url_for: Callable[[int], str]) -> None:
        self.store = page_cache.store_for(app.state.runtime)
        self.url_for = url_for
        self.hits_before: list[int] = []

    def __call__(self, i: int) -> str:
        self.hits_before.append(self.store.hits)
        return self.url_for(i)


def served(app: FastAPI, url_for: Callable[[int], str]) -> Callable[[int], str]:
    """A page as visitors meet it: signed out, through the page cache."""
    return Served(app, url_for)


def note_hits(result: PathResult, url_for: Callable[[int], str]) -> None:
    """How many of the measured requests the page cache answered."""
    if isinstance(url_for, Served) and not result.skipped:
        first = len(url_for.hits_before) - len(result.app_ms)
        result.cache_hits = url_for.store.hits - url_for.hits_before[first]


def uncached(app: FastAPI, url_for: Callable[[int], str]) -> Callable[[int], str]:
    """`url_for` with the page cache emptied first: every request renders its page."""

    def fresh(i: int) -> str:
        page_cache.store_for(app.state.runtime).changed()
        return url_for(i)

    return fresh


async def without_cache(
    app: FastAPI, run: Callable[[], Awaitable[tuple[float, str]]]
) -> tuple[float, str]:
    """`run()` with the page cache off (nothing served from it, nothing kept)."""
    store = page_cache.store_for(app.state.runtime)
    store.enabled = False
    try:
        return await run()
    finally:
        store.enabled = True


def print_page_targets(
    tables: list[tuple[str, list[PathResult], tuple[float, str] | None]],
) -> None:
    """Per backend and page: p50 app/bare served and rendered, statements per rendered
    request, against issue 19's figures; home RPS against 3x the 86 req/s."""
    print(
        f"\nissue 19 pages (p50 app/bare <= {TARGET_RATIO:.0f}x; home with 50 clients >= "
        f"{TARGET_RPS:.0f} req/s, 3x {BASELINE_RPS:.0f})"
    )
    for label, results, rps in tables:
        found = {r.name: r for r in results if not r.skipped}
        for page in PAGES:
            served, rendered = found.get(page), found.get(f"{page}-uncached")
            if served is None and rendered is None:
                continue
            parts = [f"  {label:<10} {page:<7}"]
            if served is not None:
                ratio = statistics.median(served.app_ms) / statistics.median(served.bare_ms)
                hits = 100 * served.cache_hits / max(1, len(served.app_ms))
                verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
                parts.append(
                    f"served {ratio:4.1f}x ({hits:3.0f}% from the cache, p50 "
                    f"{statistics.median(served.app_ms):5.1f} ms, "
                    f"{served.statements:.1f} statements) {verdict}"
                )
            if rendered is not None:
                ratio = statistics.median(rendered.app_ms) / statistics.median(rendered.bare_ms)
                parts.append(
                    f"rendered {ratio:4.1f}x (p50 {statistics.median(rendered.app_ms):5.1f}, "
                    f"p95 {percentile(rendered.app_ms, 0.95):5.1f} ms, "
                    f"{rendered.statements:.1f} statements, was {BEFORE_STATEMENTS[page]})"
                )
            parts.append(f"was {BEFORE[page]}x")
            print(" · ".join(parts))
        if rps is not None:
            verdict = "met" if rps[0] >= TARGET_RPS else "NOT met"
            print(
                f"  {label:<10} home, 50 clients: {rps[0]:,.0f} req/s = "
                f"{rps[0] / BASELINE_RPS:.1f}x the {BASELINE_RPS:.0f}, {verdict} ({rps[1]})"
            )
        off = found.get("home-uncached")
        if off is not None and off.rps is not None:
            print(
                f"  {label:<10} home, 50 clients, page cache off: {off.rps[0]:,.0f} req/s = "
                f"{off.rps[0] / BASELINE_RPS:.1f}x the {BASELINE_RPS:.0f} ({off.rps[1]})"
            )
