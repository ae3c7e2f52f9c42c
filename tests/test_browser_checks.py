"""The browser tests' CSP check, and plyr's pages under plyr's Content Security Policy.

tests/support/csp.py makes every test fail at teardown when a page broke the CSP; the
first tests prove it sees an inline script, an inline handler and an `eval`. Then plyr's
own pages (home, a track, search, the API docs, the embed) load and work with no violation,
the embeddable player is framed by another origin while a track page is not, and each is
saved as a screenshot at desktop and phone width in test-artifacts/.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, PlainTextResponse
from playwright.async_api import Page, expect

from plyr.db.models import Artist
from plyr.web.shared.security import SecurityHeadersMiddleware
from tests.conftest import make_settings
from tests.support.browser import ARTIFACTS
from tests.support.csp import CSP_VIOLATIONS, assert_no_csp_violations, take_csp_violations
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.ports import free_port
from tests.support.search_catalogue import catalogue_track
from tests.support.serving import uvicorn_serving

pytestmark = pytest.mark.browser

TRACK_ID = 31
VIEWPORTS = ((1280, 800, "desktop"), (375, 740, "phone"))

INLINE_PAGE = """<!doctype html><html><head><title>untouched</title></head><body>
<script>document.title = "inline ran";</script>
<button id="handler" onclick="document.title = 'handler ran'">click</button>
<script src="/eval.js"></script>
</body></html>"""
EVAL_SCRIPT = """try { eval("document.title = 'eval ran'"); } catch (error) {}"""


async def _violations_settle(page: Page, at_least: int) -> list[str]:
    """CSP reports reach the test process asynchronously: wait for `at_least` of them."""
    for _ in range(100):
        if len(CSP_VIOLATIONS) >= at_least:
            break
        await asyncio.sleep(0.05)
    await page.wait_for_timeout(200)  # and any that follow
    return list(CSP_VIOLATIONS)


@pytest.fixture(scope="module")
async def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A page that breaks plyr's CSP three ways, served under plyr's own middleware."""
    site = FastAPI()

    @site.get("/inline")
    async def inline() -> HTMLResponse:
        return HTMLResponse(INLINE_PAGE)

    @site.get("/eval.js")
    async def evaluating() -> PlainTextResponse:
        return PlainTextResponse(EVAL_SCRIPT, media_type="text/javascript")

    settings = make_settings(tmp_path_factory.mktemp("hostile"), "sqlite+aiosqlite://")
    site.add_middleware(SecurityHeadersMiddleware, settings=settings)
    port = free_port()
    async with uvicorn_serving(site, port, lifespan="off"):
        yield f"http://127.0.0.1:{port}"


async def test_a_csp_violation_fails_the_test(hostile_site: str, page: Page) -> None:
    assert take_csp_violations() == []
    await page.goto(f"{hostile_site}/inline")
    await page.locator("#handler").click()
    seen = await _violations_settle(page, 3)
    assert await page.title() == "untouched"  # none of the three ran
    text = "\n".join(seen)
    assert "script-src-elem refused inline" in text  # the <script> element
    assert "script-src-attr refused inline" in text  # onclick=
    assert "script-src refused eval" in text  # eval() in an allowed file
    assert "console: " in text  # Chromium's own console report is seen too
    # The check the autouse fixture runs at teardown fails the test on them…
    with pytest.raises(pytest.fail.Exception, match="Content Security Policy violation"):
        assert_no_csp_violations()
    # …and they are consumed, so this test itself passes.
    assert CSP_VIOLATIONS == []


@pytest.fixture(scope="module")
async def plyr(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PlyrServer]:
    folder = tmp_path_factory.mktemp("plyr-csp")
    settings = make_settings(folder, f"sqlite+aiosqlite:///{folder / 'plyr.db'}")
    async with running_plyr(settings) as server:
        async with server.runtime.sessions() as session:
            did = "did:plc:csp"
            session.add(
                Artist(did=did, handle="csp.test", display_name="Policy", pds_url="https://p.test")
            )
            await session.flush()
            session.add(catalogue_track(TRACK_ID, did, 'it\'s "live" (*)', "Policy", plays=3))
            await session.commit()
        yield server


async def _screenshots(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height, label in VIEWPORTS:
        await page.set_viewport_size({"width": width, "height": height})
        await page.wait_for_timeout(150)
        await page.screenshot(path=ARTIFACTS / f"csp-{name}-{label}.png", full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 800})


async def test_plyr_pages_work_under_the_policy(plyr: PlyrServer, page: Page) -> None:
    """No violation anywhere (the autouse check), and the scripts did their work."""
    await page.goto(f"{plyr.url}/")
    await expect(page.get_by_role("link", name='it\'s "live" (*)').first).to_be_visible()
    await _screenshots(page, "home")

    await page.goto(f"{plyr.url}/tracks/{TRACK_ID}")
    await expect(page.locator("main h1")).to_have_text('it\'s "live" (*)')
    await _screenshots(page, "track")

    # The ctrl+k dialog (a module script fetching /api/search) finds the quoted title.
    await page.keyboard.press("Control+k")
    await page.get_by_role("combobox", name="search tracks, artists").fill('it\'s "live"')
    await expect(page.locator("#search-results").get_by_text('it\'s "live" (*)')).to_be_visible()
    await page.keyboard.press("Escape")

    await page.goto(f"{plyr.url}/search?q={'it%27s%20%22live%22'}")
    await expect(page.locator("main .search-hit").first).to_contain_text('it\'s "live" (*)')

    # Swagger UI starts from a script file and renders every operation.
    await page.goto(f"{plyr.url}/api/docs")
    await expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)
    assert await page.locator(".opblock-summary-path", has_text="/api/search").count() >= 1
    await _screenshots(page, "api-docs")

    await page.goto(f"{plyr.url}/embed/track/{TRACK_ID}")
    await expect(page.locator("audio")).to_have_count(1)
    await _screenshots(page, "embed")
    assert take_csp_violations() == []


async def test_only_the_embed_may_be_framed_elsewhere(plyr: PlyrServer, page: Page) -> None:
    other_site = FastAPI()
    frames = (
        f'<iframe id="embed" src="{plyr.url}/embed/track/{TRACK_ID}" width="600" height="152">'
        f'</iframe><iframe id="page" src="{plyr.url}/tracks/{TRACK_ID}" width="600" '
        'height="300"></iframe>'
    )

    @other_site.get("/")
    async def framing() -> HTMLResponse:
        return HTMLResponse(f"<!doctype html><title>another site</title>{frames}")

    port = free_port()
    async with uvicorn_serving(other_site, port, lifespan="off"):
        await page.goto(f"http://127.0.0.1:{port}/")
        embed = page.frame_locator("#embed")
        await expect(embed.locator(".embed-title")).to_have_text('it\'s "live" (*)')
        await page.wait_for_timeout(500)
        framed_page = page.frame(url=f"{plyr.url}/tracks/{TRACK_ID}")
        # Refused: Chromium shows its error page in the frame, never plyr's track page.
        if framed_page is not None:
            assert await framed_page.locator("main h1").count() == 0
        await page.screenshot(path=ARTIFACTS / "csp-framed-elsewhere.png")
    refused = take_csp_violations()
    assert refused, "the refused frame is reported"
    assert all("frame-ancestors 'none'" in text for text in refused), refused
