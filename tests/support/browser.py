"""A headless Chromium (Debian's /usr/bin/chromium driven by Playwright) for end-to-end tests,
and the user's side of an OAuth sign-in at the local PDS (the reference @atproto/pds pages).

Import into tests/conftest.py::

    from tests.support.browser import browser, page, pytest_runtest_makereport  # noqa: F401
    from tests.support.csp import csp_violations  # noqa: F401

`browser` is one Chromium per test session; `page` is a fresh browser context (no cookies, so
no remembered PDS sign-in) per test. With the hook imported, a failing test leaves a
screenshot of its page in test-artifacts/.

Every context made from that browser reports Content Security Policy violations, and a
test that caused one fails at teardown (tests/support/csp.py).

The PDS pages, as served by @atproto/pds 0.4.217 (@atproto/oauth-provider 0.15.15):

- with login_hint: "Sign in" form, Identifier pre-filled and disabled, Password, a
  "Remember this account on this device" checkbox (off), buttons "Sign in" and "Cancel";
- without login_hint: an "Authenticate" page ("Create a new account", "Sign in", "Cancel"),
  then the same form with an editable Identifier and a "Back" button;
- with an account remembered in this browser context: without login_hint an account chooser
  ("Sign in as" buttons, "Another account"); with it, straight to the consent page;
- consent page: heading "Authorize", buttons "Authorize" and "Deny access". The PDS never
  remembers consent for loopback (`http://localhost?...`) clients, so it is always shown;
  for other clients it is skipped when every requested scope was granted before;
- deny, or "Cancel" on the sign-in page: redirect with error=access_denied,
  error_description="The user rejected the request", state and iss.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import weakref
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from playwright.async_api import (
    Browser,
    Locator,
    Page,
    Request,
    ViewportSize,
    async_playwright,
)

from tests.support.csp import watch_contexts_for_csp

# plyr's session cookie (plyr.auth.sessions.COOKIE_NAME; kept literal so this module
# stays usable without importing the app).
SESSION_COOKIE = "plyr_session"
CHROMIUM = os.environ.get("PLYR_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
AUTHORIZE_PATH = "/oauth/authorize"
_POLL_SECONDS = 0.05


# --- browser and fixtures --------------------------------------------------------------


def require_chromium() -> None:
    """Skip the calling test when there is no Chromium to drive (CI installs it)."""
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")


@asynccontextmanager
async def launch_browser() -> AsyncIterator[Browser]:
    """A headless Chromium; `--no-sandbox` because tests may run as root in containers.
    Its contexts report CSP violations (see the module docstring)."""
    require_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        watch_contexts_for_csp(browser)
        try:
            yield browser
        finally:
            await browser.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with launch_browser() as launched:
        yield launched


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    """A page in a fresh context; screenshot to test-artifacts/ when the test failed."""
    context = await browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    new_page = await context.new_page()
    track_navigations(new_page)
    try:
        yield new_page
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            path = await save_screenshot(new_page, request.node.nodeid)
            if path is not None:
                print(f"[browser] screenshot of the failed test: {path} ({new_page.url})")
        await context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item (`item.rep_call`) for the `page` fixture."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


async def save_screenshot(page: Page, name: str) -> Path | None:
    """Save a full-page screenshot under test-artifacts/; None when the page is gone."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:120] or "page"
    path = ARTIFACTS / f"{safe}-{time.strftime('%Y%m%d-%H%M%S')}.png"
    try:
        await page.screenshot(path=path, full_page=True, timeout=5_000)
    except Exception:  # a closed page or crashed browser: the report still matters
        return None
    return path


# --- navigation log --------------------------------------------------------------------

_NAVIGATIONS: weakref.WeakKeyDictionary[Page, list[str]] = weakref.WeakKeyDictionary()


def track_navigations(page: Page) -> list[str]:
    """Record every main-frame navigation of `page`, redirect hops included.

    Redirect targets are seen even when nothing answers there (connection refused), which
    `page.url` alone does not show. The `page` fixture starts this; calling it again is a
    no-op returning the same list.
    """
    log = _NAVIGATIONS.get(page)
    if log is not None:
        return log
    log = []
    _NAVIGATIONS[page] = log

    def on_request(request: Request) -> None:
        if request.is_navigation_request() and request.frame.parent_frame is None:
            log.append(request.url)

    page.on("request", on_request)
    return log


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _is_authorize_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and parts.path.rstrip("/") == AUTHORIZE_PATH


def _last_authorize_index(log: list[str]) -> int | None:
    for index in range(len(log) - 1, -1, -1):
        if _is_authorize_url(log[index]):
            return index
    return None


async def _fail(page: Page, problem: str, name: str = "pds-sign-in") -> AssertionError:
    """An AssertionError naming the page URL, a screenshot and the visible text."""
    shot = await save_screenshot(page, name)
    try:
        text = " ".join((await page.locator("body").inner_text(timeout=2_000)).split())[:400]
    except Exception:
        text = "(no text)"
    return AssertionError(f"{problem}\n  page: {page.url}\n  screenshot: {shot}\n  text: {text}")


# --- the PDS's sign-in and consent pages -------------------------------------------------


async def _visible(locator: Locator) -> bool:
    try:
        return await locator.first.is_visible()
    except Exception:  # the page navigated away while we looked
        return False


async def _text(locator: Locator) -> str:
    try:
        return " ".join((await locator.inner_text(timeout=1_000)).split())
    except Exception:  # detached while we read it
        return ""


async def _error_alerts(page: Page) -> list[str]:
    """Alerts other than the permanent "Warning" beside the password field."""
    found = []
    alerts = page.get_by_role("alert")
    for index in range(await alerts.count()):
        text = await _text(alerts.nth(index))
        if text and not text.startswith("Warning"):
            found.append(text)
    return found


async def sign_in_at_pds(
    page: Page,
    *,
    handle: str,
    password: str,
    consent: bool = True,
    remember: bool = False,
    timeout: float = 30_000,  # noqa: ASYNC109  (milliseconds, as everywhere in Playwright)
) -> None:
    """Act as the user at the PDS's authorization page until it redirects to the client.

    `page` is on, or on its way to, `<issuer>/oauth/authorize`. Handles the flows with and
    without login_hint, the remembered-account chooser, and a skipped password (remembered
    session) or skipped consent. `consent=False` clicks "Deny access" on the consent page.
    `remember=True` ticks "Remember this account on this device", so later authorizations
    in the same browser context skip the password. Returns once the browser navigates away
    from the PDS (see `wait_for_redirect` for the URL). Raises AssertionError with the page
    URL and a screenshot path when the pages do not look as expected.
    """
    log = track_navigations(page)
    deadline = time.monotonic() + timeout / 1000

    # 1. Reach the authorization page (the client may still be redirecting there).
    start: int | None = None
    while start is None:
        if _is_authorize_url(page.url) and _last_authorize_index(log) is None:
            log.append(page.url)  # tracking started after the page got there
        start = _last_authorize_index(log)
        if start is None:
            if time.monotonic() > deadline:
                raise await _fail(page, f"the browser never reached a PDS {AUTHORIZE_PATH} page")
            await asyncio.sleep(_POLL_SECONDS)
    pds = _origin(log[start])

    def left_pds() -> bool:
        return any(_origin(url) != pds for url in log[start + 1 :])

    consent_button = page.get_by_role("button", name="Authorize", exact=True)
    deny_button = page.get_by_role("button", name="Deny access", exact=True)
    password_box = page.get_by_role("textbox", name="Password", exact=True)
    identifier_box = page.get_by_role("textbox", name="Identifier", exact=True)
    chooser = page.get_by_role("button", name="Sign in as", exact=True)
    another_account = page.get_by_role("button", name="Login to account that is not listed")
    create_account = page.get_by_role("button", name="Create a new account", exact=True)
    sign_in_button = page.get_by_role("button", name="Sign in", exact=True)
    error_heading = page.get_by_role("heading", name="Error", exact=True, level=1)

    answered = False  # clicked Authorize / Deny access
    acted_on: Locator | None = None  # wait for this to go away before acting again
    what = ""
    while True:
        if left_pds():
            if not consent and not answered:
                raise await _fail(
                    page,
                    "consent=False, but the PDS redirected without asking for consent "
                    "(consent remembered for this client and scope; use prompt=consent)",
                )
            return
        if time.monotonic() > deadline:
            raise await _fail(page, f"still at the PDS after {timeout / 1000:.0f}s ({what})")
        if acted_on is not None:
            errors = await _error_alerts(page)
            if errors:
                raise await _fail(page, f"the PDS refused {what}: {'; '.join(errors)}")
            if await _visible(acted_on):
                await asyncio.sleep(_POLL_SECONDS)
                continue
            acted_on = None

        if await _visible(consent_button):
            what = "consent" if consent else "deny access"
            target = consent_button if consent else deny_button
            await target.click()
            answered, acted_on = True, target
        elif await _visible(password_box):
            what = f"the password for {handle}"
            if await identifier_box.is_enabled():
                await identifier_box.fill(handle)
            else:
                # login_hint may also be a DID; only a different handle is a mistake
                shown = (await identifier_box.input_value()).lower().removeprefix("@")
                if shown and shown != handle.lower() and not shown.startswith("did:"):
                    raise await _fail(
                        page, f"the PDS asks the password of {shown!r}, not of {handle!r}"
                    )
            await password_box.fill(password)
            if remember:
                await page.get_by_label("Remember this account on this device").check()
            await sign_in_button.click()
            acted_on = password_box
        elif await _visible(chooser):
            mine = chooser.filter(has_text=re.compile(rf"(^|\W){re.escape(handle)}(\W|$)", re.I))
            what = f"choosing {handle} among the remembered accounts"
            target = mine if await mine.count() else another_account
            await target.first.click()
            acted_on = target
        elif await _visible(create_account):
            what = "the 'Sign in' choice"
            await sign_in_button.click()
            acted_on = create_account
        else:
            if await _visible(error_heading):
                message = "; ".join(await _error_alerts(page)) or "(no message)"
                raise await _fail(page, f"the PDS shows its error page: {message}")
            what = "a known sign-in or consent page"
            await asyncio.sleep(_POLL_SECONDS)


async def wait_for_redirect(
    page: Page,
    url_prefix: str,
    timeout: float = 15_000,  # noqa: ASYNC109  (milliseconds, as everywhere in Playwright)
) -> str:
    """The URL the browser navigated to that starts with `url_prefix`.

    It is the redirect target itself (with code, state, iss), even when that server then
    redirects further or does not answer at all. Only navigations after the latest PDS
    authorization page count (after the call, when there was none), so repeated
    authorizations in one page each get their own redirect.
    """
    log = track_navigations(page)
    authorize = _last_authorize_index(log)
    start = authorize + 1 if authorize is not None else len(log)
    deadline = time.monotonic() + timeout / 1000
    while True:
        for url in log[start:]:
            if url.startswith(url_prefix):
                return url
        if page.url.startswith(url_prefix):
            return page.url
        if time.monotonic() > deadline:
            raise await _fail(
                page,
                f"no navigation to {url_prefix} within {timeout / 1000:.0f}s; "
                f"navigations since: {log[start:] or '(none)'}",
                "wait-for-redirect",
            )
        await asyncio.sleep(_POLL_SECONDS)


# --- plyr's side of signing in ----------------------------------------------------------


async def start_sign_in(page: Page, base_url: str, handle: str) -> None:
    """Type the handle on plyr's sign-in page; the browser goes on to the user's PDS."""
    await page.goto(f"{base_url}/login")
    await page.get_by_label("handle").fill(handle)
    await page.get_by_role("button", name="continue").click()


async def sign_in_to_plyr(page: Page, base_url: str, handle: str, password: str) -> str:
    """The whole sign-in, from plyr's page through the PDS and back home; returns the
    session cookie's value."""
    await start_sign_in(page, base_url, handle)
    await sign_in_at_pds(page, handle=handle, password=password)
    await page.wait_for_url(f"{base_url}/")
    cookies = await page.context.cookies()
    return next(c["value"] for c in cookies if c["name"] == SESSION_COOKIE)
