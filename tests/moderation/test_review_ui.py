"""The review flow end to end in Chromium: an operator (PLYR_ADMIN_DIDS, signed in through the
real PDS) filters and sorts the queue by score, compares both recordings at the matched
offsets, decides one flag as a false positive and two in bulk as violations, and reads the
audit log; the artist sees the takedown in their portal and replies once, which returns the
flag to the queue. Non-operators get 403 on every page and media route.

The flags are rows written here, pointing at real published tracks and a reference work with
real stored audio, so the test does not depend on the fingerprint engine (which is off)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import select

from plyr.atproto.devnet import Network
from plyr.db.models import FlagStatus, ModerationEvent, Track
from tests.conftest import devnet_settings
from tests.moderation.review_support import (
    Catalogue,
    build_catalogue,
    flag_row,
    positions,
    shot,
    sideways,
    signed_in_context,
)
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-review"),
        db_url,
        atproto_net,
        admin_dids=[atproto_net.account("alice.test").did],
        moderation_fingerprints=False,  # the flags below are written by hand
    )
    async with running_plyr(settings, worker=True) as server:
        yield server
    await clear_tables(server.runtime.engine)


@pytest.fixture(scope="module")
async def alice(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    return await sign_in(browser, plyr, atproto_net, "alice.test")


@pytest.fixture(scope="module")
async def bob(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    return await sign_in(browser, plyr, atproto_net, "bob.test")


@pytest.fixture(scope="module")
async def catalogue(
    plyr: PlyrServer, alice: SignedIn, bob: SignedIn, tmp_path_factory: pytest.TempPathFactory
) -> Catalogue:
    """Bob's four published tracks, alice's one, a reference work with stored audio, and
    four open flags on bob's tracks scored 92, 75, 60 and 40."""
    return await build_catalogue(plyr, alice, bob, tmp_path_factory.mktemp("review-audio"))


async def test_non_operators_get_403_everywhere(
    plyr: PlyrServer, bob: SignedIn, alice: SignedIn, catalogue: Catalogue
) -> None:
    swim = catalogue.flags["swim"]
    pages = ["/admin/moderation", f"/admin/moderation/flags/{swim}", "/admin/moderation/audit"]
    media = [
        f"/media/admin/tracks/{catalogue.tracks['night swim']}/audio",
        f"/media/admin/references/{catalogue.work_id}/audio",
    ]
    async with bob.client(plyr) as http:
        for path in pages:
            answer = await http.get(path, headers={"Accept": "text/html"})
            assert answer.status_code == 403, path
            assert "only the operators" in answer.text
        for path in media:
            assert (await http.get(path)).status_code == 403, path
        for action, form in (
            ("resolve", {"flag": str(swim), "decision": "violation"}),
            ("reopen", {"flag": str(swim)}),
        ):
            refused = await http.post(
                f"/admin/moderation/{action}",
                data=form | {"csrf_token": bob.csrf},
                headers={"Accept": "text/html"},
            )
            assert refused.status_code == 403
    assert (await flag_row(plyr, swim)).status == FlagStatus.open
    async with httpx.AsyncClient(base_url=plyr.url, headers={"Accept": "text/html"}) as anon:
        for path in pages:
            answer = await anon.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/login")
        for path in media:  # a player asks without text/html: no redirect, a plain 401
            assert (await anon.get(path, headers={"Accept": "*/*"})).status_code == 401, path
    async with alice.client(plyr) as http:
        for path in media:
            whole = await http.get(path)
            assert whole.status_code == 200, path
            assert whole.headers["content-type"] == "audio/mpeg"
            assert "private" in whole.headers["cache-control"]
            part = await http.get(path, headers={"Range": "bytes=100-199"})
            assert part.status_code == 206
            assert len(part.content) == 100
        assert (await http.get("/media/admin/tracks/999999/audio")).status_code == 404
        assert (await http.get("/admin/moderation?min_score=101")).status_code == 422
        assert (await http.get("/admin/moderation?sort=title")).status_code == 422
        refused = await http.post(
            "/admin/moderation/resolve",
            data={"flag": str(swim), "decision": "violation", "csrf_token": ""},
            headers={"X-CSRF-Token": ""},
        )
        assert refused.status_code == 403  # no CSRF token
    assert (await flag_row(plyr, swim)).status == FlagStatus.open


async def test_review_flow_in_chromium(
    browser: Browser, plyr: PlyrServer, alice: SignedIn, bob: SignedIn, catalogue: Catalogue
) -> None:
    ids = catalogue.flags
    admin = await signed_in_context(browser, plyr, alice)
    page = await admin.new_page()

    # The queue: open flags, highest score first; the header links operators to it.
    await page.goto(f"{plyr.url}/")
    await page.get_by_role("navigation", name="main").get_by_role("link", name="moderation").click()
    await expect(page.get_by_role("heading", name="moderation", level=1)).to_be_visible()
    rows = page.locator("tr[data-flag-row]")
    await expect(rows).to_have_count(4)
    order = [await row.get_attribute("data-flag-row") for row in await rows.all()]
    assert order == [str(ids[n]) for n in ("swim", "moon", "harbour", "tide")]
    first = rows.first
    await expect(first.get_by_role("link", name="night swim", exact=True)).to_have_attribute(
        "href", f"/tracks/{catalogue.tracks['night swim']}"
    )
    await expect(first.locator("a[href='/artists/bob.test']")).to_be_visible()
    await expect(first).to_contain_text("Tidal Hymn")
    await expect(first).to_contain_text("Saltmarsh Records")
    await expect(first.locator(".mod-range").first).to_have_text(  # en dashes
        "0:04\u20130:08 ↔matches 0:02\u20130:06"
    )
    await expect(rows.nth(1).get_by_role("link", name="first light", exact=True)).to_be_visible()
    await shot(page, "queue-1280")

    # Filter by score, then sort lowest first.
    await page.get_by_label("min score").fill("50")
    await page.get_by_label("sort").select_option("score")
    await page.get_by_role("button", name="apply").click()
    await expect(page.locator("[data-flag-total]")).to_contain_text("3 flags")
    order = [await row.get_attribute("data-flag-row") for row in await rows.all()]
    assert order == [str(ids[n]) for n in ("harbour", "moon", "swim")]
    assert "min_score=50" in page.url
    assert "sort=score" in page.url

    # "select all" ticks every row, and unticks them again.
    select_all = page.get_by_label("select every flag on this page")
    await select_all.check()
    for box in await page.locator("[data-pick]").all():
        await expect(box).to_be_checked()
    await select_all.uncheck()
    await expect(page.locator("[data-pick]:checked")).to_have_count(0)

    # One flag: both recordings, each starting at the matched offsets.
    await page.get_by_role("link", name="review flag " + str(ids["swim"])).first.click()
    await expect(page.get_by_role("heading", name=f"flag {ids['swim']}")).to_be_visible()
    flagged = page.locator("audio#audio-flagged")
    matched = page.locator("audio#audio-matched")
    await expect(flagged).to_have_attribute("controls", "")
    await expect(flagged).to_have_accessible_name("flagged track: night swim")
    await expect(matched).to_have_accessible_name("matched recording: Tidal Hymn")
    for audio in (flagged, matched):  # both load: the admin media routes answer
        await page.wait_for_function("el => el.readyState >= 1", arg=await audio.element_handle())
    start = await positions(page)  # the #t= fragment, before any script
    assert start == pytest.approx((4.0, 2.0), abs=0.3)
    later = page.locator("section[aria-labelledby=matched-heading]").get_by_role(
        "button", name="play from 0:09 / 0:07"
    )
    await later.click()
    now = await positions(page)
    assert now == pytest.approx((9.0, 7.0), abs=0.6), now
    await page.wait_for_function("document.getElementById('audio-flagged').paused")
    earlier = page.locator("section[aria-labelledby=flagged-heading]").get_by_role(
        "button", name="play from 0:04 / 0:02"
    )
    await earlier.click()
    now = await positions(page)
    assert now == pytest.approx((4.0, 2.0), abs=0.6), now
    await page.wait_for_function("document.getElementById('audio-matched').paused")
    await page.evaluate("document.querySelectorAll('audio').forEach(a => a.pause())")
    await shot(page, "flag-1280")

    # A false positive needs a reason: without one nothing changes.
    await page.goto(f"{plyr.url}/admin/moderation/flags/{ids['moon']}")
    await expect(page.get_by_role("link", name="first light", exact=True).first).to_be_visible()
    await page.get_by_role("button", name="false positive").click()
    await expect(page.locator("#toasts")).to_contain_text("needs a reason")
    assert (await flag_row(plyr, ids["moon"])).status == FlagStatus.open
    # With a reason and a note.
    await page.get_by_label("false positive reason").select_option(label="original artist")
    await page.get_by_label("note").fill("same artist under two names")
    await page.get_by_role("button", name="false positive").click()
    await expect(page.locator("#toasts")).to_contain_text("marked false positive")
    await expect(page.locator("[data-decision]")).to_contain_text(
        "decided false positive (original artist) by alice.test"
    )
    await expect(page.locator(".mod-history")).to_contain_text("same artist under two names")
    moon = await flag_row(plyr, ids["moon"])
    assert (moon.status, moon.reason, moon.note, moon.resolved_by) == (
        FlagStatus.false_positive,
        "original_artist",
        "same artist under two names",
        alice.did,
    )

    # Bulk: none ticked decides nothing; then two flags at once, as violations (their
    # tracks are taken down).
    await page.goto(f"{plyr.url}/admin/moderation")
    await expect(rows).to_have_count(3)
    await page.get_by_role("button", name="violation: take down").click()
    await expect(page.locator("#toasts")).to_contain_text("name at least one flag")
    await expect(rows).to_have_count(3)
    await page.get_by_label(f"select flag {ids['swim']}: night swim").check()
    await page.get_by_label(f"select flag {ids['harbour']}: glass harbour").check()
    await page.get_by_role("button", name="violation: take down").click()
    await expect(page.locator("#toasts")).to_contain_text("2 flags marked violation")
    await expect(rows).to_have_count(1)  # only "low tide" is still open
    for name, title in (("swim", "night swim"), ("harbour", "glass harbour")):
        assert (await flag_row(plyr, ids[name])).status == FlagStatus.violation
        async with plyr.runtime.sessions() as db:
            track = await db.get(Track, catalogue.tracks[title])
        assert track is not None
        assert track.taken_down_at is not None

    # The audit log: who decided what, and when.
    await page.get_by_role("link", name="audit log").click()
    await expect(page.get_by_role("heading", name="audit log")).to_be_visible()
    audit_rows = page.locator("tr[data-audit-row]")
    for subject, action in (
        (ids["moon"], "flag.false_positive"),
        (ids["swim"], "flag.violation"),
        (ids["harbour"], "flag.violation"),
    ):
        row = audit_rows.filter(has=page.get_by_role("link", name=f"flag:{subject}", exact=True))
        await expect(row.first).to_contain_text(action)
        await expect(row.first).to_contain_text("alice.test")
    await expect(audit_rows.filter(has_text="flag.false_positive")).to_contain_text(
        "original artist"
    )
    await shot(page, "audit-1280")

    # The artist: the takedown and why in the portal; one reply.
    artist = await signed_in_context(browser, plyr, bob)
    portal = await artist.new_page()
    await portal.goto(f"{plyr.url}/portal")
    swim_item = portal.locator(f"[data-review='{ids['swim']}']")
    await expect(swim_item.locator("[data-review-status]")).to_contain_text(
        "taken down: copyright: matches “Tidal Hymn” by The Estuaries"
    )
    tide_item = portal.locator(f"[data-review='{ids['tide']}']")
    await expect(tide_item).to_contain_text("under review: sounds like “Tidal Hymn”")
    await expect(tide_item).to_contain_text("by The Estuaries (Saltmarsh Records) (score 40)")
    # Nothing of the operators: their DIDs, their notes, the work's file.
    reviews = portal.locator("[data-reviews]")
    for secret in (alice.did, "tidal-hymn.mp3"):
        await expect(reviews).not_to_contain_text(secret)
    await expect(portal.locator(f"[data-review='{ids['moon']}']")).to_have_count(0)  # cleared
    listed = portal.locator(".track-row", has_text="night swim")
    await expect(listed.locator(".state")).to_have_text("taken down")
    await expect(portal.get_by_role("link", name="moderation", exact=True)).to_have_count(0)
    await shot(portal, "portal-before-reply-1280")
    await swim_item.get_by_label("reply to the operators (once)").fill(
        "I recorded this in 2019; the estuaries sampled me."
    )
    await swim_item.get_by_role("button", name="send reply").click()
    swim_item = portal.locator(f"[data-review='{ids['swim']}']")
    await expect(swim_item.locator("[data-my-reply]")).to_have_text(
        "I recorded this in 2019; the estuaries sampled me."
    )
    await expect(swim_item.locator("[data-returned]")).to_contain_text("returned to review")
    await expect(swim_item.get_by_role("button", name="send reply")).to_have_count(0)
    await shot(portal, "portal-1280")
    async with bob.client(plyr) as http:
        again = await http.post(
            f"/portal/flags/{ids['swim']}/appeal",
            data={"text": "one more thing", "csrf_token": bob.csrf},
            headers={"Accept": "text/html"},
        )
        assert again.status_code == 409
        assert "appealed this flag already" in again.text
        other = await http.post(
            f"/portal/flags/{ids['moon']}/appeal",
            data={"text": "x", "csrf_token": bob.csrf},
            headers={"Accept": "text/html"},
        )
        assert other.status_code == 409  # cleared: nothing to appeal
        empty = await http.post(
            f"/portal/flags/{ids['tide']}/appeal",
            data={"text": "   ", "csrf_token": bob.csrf},
            headers={"Accept": "text/html"},
        )
        assert empty.status_code == 422
    async with alice.client(plyr) as http:
        not_hers = await http.post(
            f"/portal/flags/{ids['tide']}/appeal",
            data={"text": "not my track", "csrf_token": alice.csrf},
            headers={"Accept": "text/html"},
        )
        assert not_hers.status_code == 404  # as an unknown flag: no probing of ids
    swim = await flag_row(plyr, ids["swim"])
    assert swim.status == FlagStatus.open
    assert swim.appeal_text == "I recorded this in 2019; the estuaries sampled me."
    assert (await flag_row(plyr, ids["tide"])).appeal_text is None

    # Back in the operator's open queue, with the reply shown.
    await page.goto(f"{plyr.url}/admin/moderation")
    back = page.locator(f"tr[data-flag-row='{ids['swim']}']")
    await expect(back).to_contain_text("appealed")
    await back.get_by_role("link", name=f"review flag {ids['swim']}: night swim").click()
    await expect(page.locator("[data-appeal]")).to_have_text(
        "I recorded this in 2019; the estuaries sampled me."
    )
    await expect(page.locator(".mod-history")).to_contain_text("flag.appeal")
    async with plyr.runtime.sessions() as db:
        actions = (
            await db.scalars(
                select(ModerationEvent.action).where(
                    ModerationEvent.subject == f"flag:{ids['swim']}"
                )
            )
        ).all()
    assert "flag.appeal" in actions
    assert "flag.violation" in actions
    await admin.close()
    await artist.close()


async def test_screens_at_desktop_and_phone(
    browser: Browser, plyr: PlyrServer, alice: SignedIn, bob: SignedIn, catalogue: Catalogue
) -> None:
    problems: list[str] = []
    swim = catalogue.flags["swim"]
    for width in (1280, 375):
        for user, path, name in (
            (alice, "/admin/moderation?status=all", "queue-all"),
            (alice, f"/admin/moderation/flags/{swim}", "flag"),
            (alice, "/admin/moderation/audit", "audit"),
            (bob, "/portal", "portal"),
        ):
            context = await signed_in_context(browser, plyr, user, width)
            page = await context.new_page()
            await page.goto(f"{plyr.url}{path}")
            await expect(page.locator("h1")).to_be_visible()
            if overflow := await sideways(page):
                problems.append(f"{path} scrolls sideways by {overflow}px at {width}px")
            await shot(page, f"{name}-{width}")
            await page.evaluate("document.documentElement.dataset.theme = 'dark'")
            await shot(page, f"{name}-{width}-dark")
            await context.close()
    # On phones the header has no room for the queue: the settings page links it.
    context = await signed_in_context(browser, plyr, alice, 375)
    page = await context.new_page()
    await page.goto(f"{plyr.url}/settings")
    await expect(
        page.get_by_role("navigation", name="main").get_by_role("link", name="moderation")
    ).to_be_hidden()
    await page.get_by_role("link", name="the moderation queue").click()
    await expect(page.get_by_role("heading", name="moderation", level=1)).to_be_visible()
    await context.close()
    assert not problems, problems
