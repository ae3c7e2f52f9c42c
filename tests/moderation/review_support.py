"""What the review-flow browser tests share: the catalogue of flags they review (rows written
by hand on real published tracks and a reference work with stored audio), a signed-in
browser context, screenshots, and reads of the page and the database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, expect

from plyr.auth.sessions import COOKIE_NAME
from plyr.db.models import ModerationFlag, ReferenceWork
from plyr.storage.base import put_content_addressed
from tests.support.audio import make_audio
from tests.support.browser import ARTIFACTS
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, upload_published

SHOTS = ARTIFACTS / "moderation"
SECONDS = 12.0


@dataclass
class Catalogue:
    work_id: int
    tracks: dict[str, int]  # title → id
    flags: dict[str, int]  # name → flag id


async def build_catalogue(
    plyr: PlyrServer, alice: SignedIn, bob: SignedIn, folder: Path
) -> Catalogue:
    """Bob's four published tracks, alice's one, a reference work with stored audio, and
    four open flags on bob's tracks scored 92, 75, 60 and 40."""
    tracks: dict[str, int] = {}
    for user, title, freq in (
        (bob, "night swim", 330.0),
        (bob, "paper moon", 392.0),
        (bob, "glass harbour", 440.0),
        (bob, "low tide", 494.0),
        (alice, "first light", 587.0),
    ):
        source = make_audio(folder / f"{freq:.0f}.mp3", "mp3", seconds=SECONDS, freq=freq)
        async with user.client(plyr) as http:
            tracks[title] = int((await upload_published(http, source, title=title))["id"])
    reference = make_audio(folder / "reference.mp3", "mp3", seconds=SECONDS, freq=330.0)
    stored, _ = await put_content_addressed(
        plyr.runtime.storage, "references", reference, "mp3", "audio/mpeg"
    )

    def flag(track: str, score: int, ranges: list[dict[str, float]], **match: Any) -> Any:
        key = (
            f"work:{match['reference_work_id']}"
            if "reference_work_id" in match
            else (f"track:{match['matched_track_id']}")
        )
        return ModerationFlag(
            track_id=tracks[track],
            match_key=key,
            score=score,
            ranges=ranges,
            engine="chromaprint-test",
            **match,
        )

    async with plyr.runtime.sessions() as db:
        work = ReferenceWork(
            title="Tidal Hymn",
            artist="The Estuaries",
            rights_holder="Saltmarsh Records",
            source="tidal-hymn.mp3",
            duration_seconds=SECONDS,
            engine="chromaprint-test",
            fingerprint=b"\0" * 8,
            audio_key=stored.key,
            audio_content_type="audio/mpeg",
        )
        db.add(work)
        await db.flush()
        rows = {
            "swim": flag(
                "night swim",
                92,
                [
                    {"start": 4.0, "end": 8.0, "matched_start": 2.0, "matched_end": 6.0},
                    {"start": 9.0, "end": 11.0, "matched_start": 7.0, "matched_end": 9.0},
                ],
                reference_work_id=work.id,
            ),
            "moon": flag(
                "paper moon",
                75,
                [{"start": 1.0, "end": 5.0, "matched_start": 3.0, "matched_end": 7.0}],
                matched_track_id=tracks["first light"],
            ),
            "harbour": flag(
                "glass harbour",
                60,
                [{"start": 0.0, "end": 6.0, "matched_start": 0.0, "matched_end": 6.0}],
                reference_work_id=work.id,
            ),
            "tide": flag(
                "low tide",
                40,
                [{"start": 2.0, "end": 4.0, "matched_start": 5.0, "matched_end": 7.0}],
                reference_work_id=work.id,
            ),
        }
        db.add_all(rows.values())
        await db.commit()
        return Catalogue(work.id, tracks, {name: row.id for name, row in rows.items()})


async def signed_in_context(
    browser: Browser, plyr: PlyrServer, user: SignedIn, width: int = 1280
) -> BrowserContext:
    context = await browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    host = plyr.url.split("//", 1)[1].split(":")[0]
    await context.add_cookies(
        [{"name": COOKIE_NAME, "value": user.cookie, "domain": host, "path": "/"}]
    )
    return context


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=path, full_page=True)


async def sideways(page: Page) -> int:
    overflow: int = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return overflow


async def flag_row(plyr: PlyrServer, flag_id: int) -> ModerationFlag:
    async with plyr.runtime.sessions() as db:
        row = await db.get(ModerationFlag, flag_id)
    assert row is not None
    return row


async def positions(page: Page) -> tuple[float, float]:
    found = await page.evaluate(
        "[document.getElementById('audio-flagged').currentTime,"
        " document.getElementById('audio-matched').currentTime]"
    )
    return float(found[0]), float(found[1])


async def takedown_seen_in_chromium(
    plyr: PlyrServer, alice: SignedIn, browser: Browser, track_id: int, reason: str
) -> None:
    """The reason page a listener gets and the notice its artist gets, at desktop and phone
    widths (screenshots in test-artifacts/moderation/)."""
    for width in (1280, 375):
        context = await browser.new_context(viewport={"width": width, "height": 900})
        page = await context.new_page()
        response = await page.goto(f"{plyr.url}/tracks/{track_id}")
        assert response is not None
        assert response.status == 451
        await expect(page.get_by_text(reason).first).to_be_visible()
        assert await sideways(page) <= 0
        await shot(page, f"takedown-451-{width}")
        await context.close()
        context = await signed_in_context(browser, plyr, alice, width)
        page = await context.new_page()
        await page.goto(f"{plyr.url}/tracks/{track_id}")
        await expect(page.locator("#takedown-notice")).to_be_visible()
        assert await sideways(page) <= 0
        await shot(page, f"takedown-notice-{width}")
        await context.close()
