"""One browser tab per Chromium for the sign-ins that set tests up.

Fixtures sign alice, bob and newcomers in to each plyr they start, a few hundred times a
run, and each is the real sign-in: plyr's page, the PDS's sign-in and consent pages, back
home, in Chromium. Made in a new browser context each time, a sign-in cost 2.5 s of CPU
(Chromium, the PDS, the test process); in one kept tab 1.2 s, its renderer and HTTP cache
staying warm. The tab goes blank after each use, and before the next it forgets what the
last one left: every cookie (plyr's session, the PDS's device session) and the storage of
every origin it visited, so each sign-in is still a first one. The tests of signing in itself
(tests/signin) use fresh contexts.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.async_api import Browser, BrowserContext, CDPSession, Page
from playwright.async_api import Error as PlaywrightError

from tests.support.browser import track_navigations


@dataclass
class _Tab:
    context: BrowserContext
    page: Page
    cdp: CDPSession
    origins: set[str] = field(default_factory=set)  # what to forget before the next use


_LOCKS: weakref.WeakKeyDictionary[Browser, asyncio.Lock] = weakref.WeakKeyDictionary()
_TABS: weakref.WeakKeyDictionary[Browser, _Tab] = weakref.WeakKeyDictionary()


async def _open(browser: Browser) -> _Tab:
    tab = _TABS.get(browser)
    if tab is None or tab.page.is_closed():
        context = await browser.new_context()  # watched for CSP violations like any other
        page = await context.new_page()
        tab = _Tab(context, page, await context.new_cdp_session(page))
        _TABS[browser] = tab
    return tab


async def _forget(tab: _Tab) -> None:
    await tab.page.goto("about:blank")
    log = track_navigations(tab.page)
    tab.origins.update(
        f"{parts.scheme}://{parts.netloc}"
        for parts in map(urlsplit, log)
        if parts.scheme in {"http", "https"}
    )
    log.clear()  # sign_in_at_pds reads this tab's navigations since the sign-in began
    await tab.context.clear_cookies()
    for origin in sorted(tab.origins):  # local storage, IndexedDB, caches of the page
        await tab.cdp.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
    tab.origins.clear()


@asynccontextmanager
async def sign_in_tab(browser: Browser) -> AsyncIterator[Page]:
    """The browser's sign-in tab, blank and with nothing remembered, for one caller at a
    time (a sign-in running elsewhere in the event loop waits)."""
    lock = _LOCKS.setdefault(browser, asyncio.Lock())
    async with lock:
        tab = await _open(browser)
        await _forget(tab)
        try:
            yield tab.page
        finally:
            # Blank again at once: no page of the last sign-in runs on between tests.
            with contextlib.suppress(PlaywrightError):
                await tab.page.goto("about:blank")
