"""Content Security Policy violations in the browser tests: every context reports them, and
a test that caused one fails at teardown.

`launch_browser` (tests/support/browser.py) makes `browser.new_context()` and
`browser.new_page()` return watched contexts, wherever a test calls them (the `page` fixture
included). A context reports each violation twice over: a `securitypolicyviolation` listener
in every frame (an init script, which the page's CSP does not govern, calling a binding),
and the console's "Content Security Policy" errors, which also name what no DOM event shows,
such as a frame its ancestors may not hold. The autouse `csp_violations` fixture (imported
into tests/conftest.py) fails the test at teardown when any were seen, so a page that needs
an inline script or an `eval` breaks the suite; a test that provokes one on purpose takes
it with `take_csp_violations()`.

Playwright's `wait_for_function("<expression>")` evaluates the string with `eval` in the
page, which the CSP refuses (EvalError); pass a function instead: `"() => <expression>"`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page

# What every context saw since the last check, in order: "<where>: <what was refused>".
CSP_VIOLATIONS: list[str] = []
_CSP_BINDING = "__plyrCspViolation"
# Runs in every frame before the page's own scripts (init scripts are not subject to CSP).
_CSP_LISTENER = f"""
document.addEventListener("securitypolicyviolation", (event) => {{
  const source = event.sourceFile ? ` at ${{event.sourceFile}}:${{event.lineNumber}}` : "";
  window.{_CSP_BINDING}?.(
    `${{event.documentURI}}: ${{event.effectiveDirective}} refused ` +
      `${{event.blockedURI || "inline"}}${{source}} (${{event.disposition}})`
  );
}}, true);
"""


async def watch_for_csp_violations(context: BrowserContext) -> None:
    """Record CSP violations of every page and frame of `context` in CSP_VIOLATIONS."""

    def on_violation(source: dict[str, object], text: str) -> None:
        CSP_VIOLATIONS.append(text)

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            page_url = message.page.url if message.page is not None else "?"
            CSP_VIOLATIONS.append(f"{page_url}: console: {message.text}")

    await context.expose_binding(_CSP_BINDING, on_violation)
    await context.add_init_script(_CSP_LISTENER)
    context.on("console", on_console)


def watch_contexts_for_csp(browser: Browser) -> None:
    """Make `browser.new_context` (and `browser.new_page`) return watched contexts."""
    new_context = browser.new_context

    async def new_watched_context(*args: Any, **kwargs: Any) -> BrowserContext:
        context = await new_context(*args, **kwargs)
        await watch_for_csp_violations(context)
        return context

    async def new_watched_page(*args: Any, **kwargs: Any) -> Page:
        # Like Browser.new_page: a context of its own, closed with the page.
        context = await new_watched_context(*args, **kwargs)
        page = await context.new_page()

        async def close_context(_: Page) -> None:
            await context.close()

        page.once("close", close_context)
        return page

    browser.new_context = new_watched_context  # type: ignore[method-assign]
    browser.new_page = new_watched_page  # type: ignore[method-assign]


def take_csp_violations() -> list[str]:
    """The violations seen so far, forgotten (for tests that provoke them on purpose)."""
    found = list(CSP_VIOLATIONS)
    CSP_VIOLATIONS.clear()
    return found


def assert_no_csp_violations() -> None:
    found = take_csp_violations()
    if found:
        pytest.fail(
            f"{len(found)} Content Security Policy violation(s):\n  " + "\n  ".join(found),
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def csp_violations() -> Iterator[list[str]]:
    """Fails the test at teardown when a browser context saw a CSP violation (those seen
    while session fixtures were set up count against the first test after them)."""
    yield CSP_VIOLATIONS
    assert_no_csp_violations()
