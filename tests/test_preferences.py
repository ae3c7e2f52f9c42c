"""Server-side preferences: the API (defaults, round trip, validation, CSRF), the plain
settings form, and a signed-in user's saved theme and accent applied by the server on a
fresh browser (no localStorage). Runs on SQLite and PostgreSQL against the real PDS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser

from plyr.atproto.devnet import Network
from plyr.auth.sessions import COOKIE_NAME
from tests.conftest import devnet_settings
from tests.support.browser import ARTIFACTS
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, sign_in

pytestmark = pytest.mark.browser

DEFAULTS = {
    "theme": "system",
    "accent": None,
    "auto_advance": True,
    "loudness_levelling": True,
    "allow_comments": True,
    "show_liked": False,
    "show_sensitive": False,
    "show_warned_tracks": False,
    "hidden_tags": ["ai"],
    "transition": "off",
    "crossfade_seconds": 6,
}


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-preferences"),
        db_url,
        atproto_net,
    )
    async with running_plyr(settings) as server:
        yield server
    await clear_tables(server.runtime.engine)


@pytest.fixture(scope="module")
async def alice(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    return await sign_in(browser, plyr, atproto_net, "alice.test")


async def test_defaults_round_trip_and_validation(plyr: PlyrServer, alice: SignedIn) -> None:
    async with alice.client(plyr) as http:
        assert (await http.get("/api/preferences")).json() == DEFAULTS

        saved = await http.patch(
            "/api/preferences",
            json={"theme": "dark", "accent": "#FF8800", "hidden_tags": ["#Lo-Fi", "lo-fi", " AI "]},
        )
        assert saved.status_code == 200, saved.text
        expected = DEFAULTS | {"theme": "dark", "accent": "#ff8800", "hidden_tags": ["lo-fi", "ai"]}
        assert saved.json() == expected
        assert (await http.get("/api/preferences")).json() == expected

        # Only the fields sent change; accent null goes back to the default colour.
        partial = await http.patch("/api/preferences", json={"show_liked": True, "accent": None})
        expected |= {"show_liked": True, "accent": None}
        assert partial.json() == expected

        for bad in (
            {"theme": "blue"},
            {"accent": "red"},
            {"accent": "#12345"},
            {"auto_advance": "yes"},
            {"transition": "fade"},
            {"crossfade_seconds": 0},
            {"crossfade_seconds": 13},
            {"crossfade_seconds": "6"},
            {"show_sensitive": None},
            {"hidden_tags": ["x" * 51]},
            {"hidden_tags": [f"tag{i}" for i in range(11)]},
            {"colour": "#ffffff"},
            {"theme": "light", "accent": "nope"},  # one bad field: nothing changes
        ):
            refused = await http.patch("/api/preferences", json=bad)
            assert refused.status_code == 422, (bad, refused.text)
            assert refused.json()["error"]["code"] in ("invalid_input", "validation_error")
        assert (await http.get("/api/preferences")).json() == expected

        # The cookie alone is not enough to change anything: the CSRF token is required.
        forged = await http.patch(
            "/api/preferences", json={"theme": "light"}, headers={"X-CSRF-Token": ""}
        )
        assert forged.status_code == 403
        assert forged.json()["error"]["code"] == "csrf_failed"
        assert (await http.get("/api/preferences")).json()["theme"] == "dark"

    async with httpx.AsyncClient(base_url=plyr.url) as anonymous:
        assert (await anonymous.get("/api/preferences")).status_code == 401
        assert (await anonymous.patch("/api/preferences", json={"theme": "dark"})).status_code in (
            401,
            403,
        )


async def test_plain_form_saves_everything(plyr: PlyrServer, alice: SignedIn) -> None:
    """Without JavaScript the form posts every field; an unticked box is off."""
    async with alice.client(plyr) as http:
        posted = await http.post(
            "/settings/preferences",
            data={
                "csrf_token": alice.csrf,
                "theme": "light",
                "accent": "#22aa66",
                "loudness_levelling": "on",
                "show_sensitive": "on",
                "show_warned_tracks": "on",
                "hidden_tags": "ai, Noise",
                "transition": "gapless",
                "crossfade_seconds": "9",
            },
            headers={"Accept": "text/html"},
        )
        assert posted.status_code == 303
        assert posted.headers["location"] == "/settings?done=preferences-saved"
        assert (await http.get("/api/preferences")).json() == {
            "theme": "light",
            "accent": "#22aa66",
            "auto_advance": False,
            "loudness_levelling": True,
            "allow_comments": False,
            "show_liked": False,
            "show_sensitive": True,
            "show_warned_tracks": True,
            "hidden_tags": ["ai", "noise"],
            "transition": "gapless",
            "crossfade_seconds": 9,
        }
        page = await http.get("/settings", headers={"Accept": "text/html"})
        assert 'name="theme" value="light" data-pref="theme" checked' in page.text
        assert 'value="#22aa66"' in page.text
        assert 'value="ai, noise"' in page.text
        assert 'name="transition" value="gapless" data-pref="transition" checked' in page.text
        assert 'value="9" data-pref="crossfade_seconds"' in page.text

        refused = await http.post(
            "/settings/preferences",
            data={"csrf_token": alice.csrf, "theme": "neon", "accent": "#000000"},
            headers={"Accept": "text/html"},
        )
        assert refused.status_code == 422
        assert "system, light or dark" in refused.text
        assert (await http.get("/api/preferences")).json()["theme"] == "light"


async def test_saved_theme_and_accent_come_from_the_server(
    browser: Browser, plyr: PlyrServer, alice: SignedIn
) -> None:
    """A fresh browser (nothing in localStorage) gets the saved theme and accent at once,
    rendered by the server, with and without JavaScript; changes save to the server."""
    async with alice.client(plyr) as http:
        saved = await http.patch(
            "/api/preferences",
            json={"theme": "dark", "accent": "#ff3366", "auto_advance": True, "show_liked": False},
        )
        assert saved.status_code == 200
        html = (await http.get("/settings", headers={"Accept": "text/html"})).text
    head = html[: html.index("<head>")]
    assert 'data-theme="dark"' in head, head
    assert "--accent: #ff3366" in head, head
    assert "data-prefs=" in head, head

    cookie = {"name": COOKIE_NAME, "value": alice.cookie, "url": plyr.url}
    scriptless = await browser.new_context(java_script_enabled=False)
    await scriptless.add_cookies([cookie])
    page = await scriptless.new_page()
    await page.goto(f"{plyr.url}/settings")
    accent = "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"
    assert await page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert await page.evaluate(accent) == "#ff3366"
    await scriptless.close()

    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    await context.add_cookies([cookie])
    page = await context.new_page()
    await page.goto(f"{plyr.url}/settings")
    assert await page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert await page.evaluate(accent) == "#ff3366"
    # The player's copies follow the server.
    assert await page.evaluate("localStorage.getItem('plyr.autoadvance')") == "on"

    ARTIFACTS.mkdir(exist_ok=True)
    for width, height, label in ((1280, 800, "desktop"), (375, 740, "phone")):
        await page.set_viewport_size({"width": width, "height": height})
        await page.goto(f"{plyr.url}/settings")
        await page.wait_for_load_state()
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"/settings scrolls sideways by {overflow}px at {width}px"
        await page.screenshot(path=ARTIFACTS / f"preferences-settings-{label}.png", full_page=True)

    # With JavaScript each change saves at once, with a status message.
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.get_by_label("show my liked tracks on my profile").check()
    status = page.locator("#prefs-status")
    await status.filter(has_text="saved").wait_for()
    await page.get_by_label("light").check()
    await page.wait_for_function("() => document.documentElement.dataset.theme === 'light'")
    await page.get_by_label("hidden tags").fill("ai, drone")
    async with page.expect_response(
        lambda r: "hidden_tags" in (r.request.post_data or "")
    ) as saved_tags:
        await page.get_by_label("hidden tags").press("Tab")
    assert (await saved_tags.value).ok
    await status.filter(has_text="saved").wait_for()
    await page.screenshot(path=ARTIFACTS / "preferences-settings-saved.png")
    async with alice.client(plyr) as http:
        now = (await http.get("/api/preferences")).json()
    assert now["show_liked"] is True
    assert now["theme"] == "light"
    assert now["hidden_tags"] == ["ai", "drone"]

    # The header's toggle saves too, and a reload keeps what the server says.
    # Its save is a fetch after the click: read the server once that answered.
    async with page.expect_response(
        lambda r: r.url.endswith("/api/preferences") and r.request.method == "PATCH"
    ) as saved_toggle:
        await page.locator("[data-theme-toggle]").click()
    assert (await saved_toggle.value).ok
    async with alice.client(plyr) as http:
        toggled = (await http.get("/api/preferences")).json()["theme"]
    assert toggled == "system"  # light → system in the system → dark → light cycle
    await context.close()
