"""Catalogue stats, top and recently liked tracks, and the artist's analytics in the portal."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser

from plyr.auth.sessions import COOKIE_NAME
from plyr.db.models import Artist, Like, Play, PublishState, Track, utcnow
from plyr.listening import stats, top
from tests.support.browser import ARTIFACTS
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn

pytestmark = pytest.mark.browser


async def _artist(db: Any, did: str, handle: str) -> None:
    if await db.get(Artist, did) is None:
        db.add(Artist(did=did, handle=handle, pds_url="http://127.0.0.1:1"))
        await db.flush()


def _track(did: str, title: str, *, created: datetime, seconds: int = 100, **extra: Any) -> Track:
    return Track(
        artist_did=did,
        title=title,
        artist_name=did.rsplit(":", 1)[1],
        file_type="mp3",
        duration_seconds=seconds,
        content_hash=f"{title}-{did}".ljust(64, "0")[:64],
        original_key=f"audio/{title}.mp3",
        rkey=f"3l{abs(hash(title)) % 10**10:010d}aa",
        publish_state=extra.pop("state", PublishState.published),
        created_at=created,
        **extra,
    )


async def _plays(db: Any, track: Track, count: int, at: datetime) -> None:
    for index in range(count):
        db.add(
            Play(
                track_id=track.id,
                listen_id=f"{track.id}-{at.timestamp()}-{index}",
                listened_ms=30_000,
                created_at=at - timedelta(seconds=index),
            )
        )
    track.play_count += count


async def test_stats_top_and_recently_liked(plyr: PlyrServer) -> None:
    # One published track first: an empty catalogue's counts are never cached (the first
    # upload shows at once), and this test is about the cache (alone, nothing else made one).
    async with plyr.runtime.sessions() as db:
        await _artist(db, "did:plc:chartseed", "chartseed.test")
        db.add(_track("did:plc:chartseed", "seed", created=utcnow() - timedelta(days=400)))
        await db.commit()
    stats.clear_cache()
    async with httpx.AsyncClient(base_url=plyr.url) as http:
        before = (await http.get("/api/stats")).json()
        now = utcnow()
        async with plyr.runtime.sessions() as db:
            for n in (1, 2, 3):
                await _artist(db, f"did:plc:chart{n}", f"chart{n}.test")
            hidden = _track("did:plc:chart3", "unpublished", created=now, state=PublishState.failed)
            db.add(hidden)
            tracks = {
                name: _track(
                    f"did:plc:chart{1 + i % 2}", name, created=now - timedelta(days=90 - i)
                )
                for i, name in enumerate(("today", "tied-newer", "this-week", "this-month", "old"))
            }
            db.add_all(tracks.values())
            await db.flush()
            await _plays(db, tracks["today"], 50, now - timedelta(hours=2))
            await _plays(db, tracks["tied-newer"], 50, now - timedelta(hours=3))
            await _plays(db, tracks["this-week"], 45, now - timedelta(days=3))
            await _plays(db, tracks["this-month"], 40, now - timedelta(days=20))
            await _plays(db, tracks["old"], 70, now - timedelta(days=60))
            await _plays(db, hidden, 500, now - timedelta(hours=1))  # never in a chart
            for n, name in enumerate(("this-month", "old", "this-month")):
                db.add(
                    Like(
                        did=f"did:plc:chart{n + 1}",
                        track_id=tracks[name].id,
                        rkey=f"3lik{n}aaaaaaa",
                        created_at=now - timedelta(minutes=10 - n),
                    )
                )
            await db.commit()
            ids = {name: track.id for name, track in tracks.items()}

        # Cached for a few seconds (per process), then the new numbers.
        cached = await stats.catalogue_stats(plyr.runtime, max_age=3600)
        assert cached.as_dict() == before
        stats.clear_cache()
        after = (await http.get("/api/stats")).json()
        assert after["tracks"] - before["tracks"] == 5
        assert after["plays"] - before["plays"] == 255 + 500
        assert after["duration_seconds"] - before["duration_seconds"] == 500
        assert after["artists"] - before["artists"] == 2  # chart3 has no published track

        async def chart(window: str) -> list[str]:
            response = await http.get("/api/tracks/top", params={"window": window, "limit": 100})
            assert response.status_code == 200, response.text
            names = {v: k for k, v in ids.items()}
            return [names[r["track"]["id"]] for r in response.json() if r["track"]["id"] in names]

        # Ties (50 and 50 today) go to the newer track.
        assert await chart("day") == ["tied-newer", "today"]
        assert await chart("week") == ["tied-newer", "today", "this-week"]
        assert await chart("month") == ["tied-newer", "today", "this-week", "this-month"]
        assert await chart("all") == ["old", "tied-newer", "today", "this-week", "this-month"]
        week = (await http.get("/api/tracks/top", params={"window": "week"})).json()
        assert {r["track"]["id"]: r["plays"] for r in week}[ids["this-week"]] == 45
        assert (await http.get("/api/tracks/top", params={"window": "year"})).status_code == 422

        liked = (await http.get("/api/tracks/recently-liked")).json()
        liked_ids = [item["track"]["id"] for item in liked]
        assert liked_ids[:2] == [ids["this-month"], ids["old"]]  # newest like first, once each
        assert len(liked_ids) == len(set(liked_ids))

        # Home: the stats line and the top of the week.
        top.clear_cache()
        stats.clear_cache()
        home = await http.get("/", headers={"Accept": "text/html"})
        assert f"{after['plays']} plays" in home.text
        top_section = home.text.split('id="top-heading"', 1)[1].split("</section>", 1)[0]
        assert top_section.index("tied-newer") < top_section.index("this-week")


async def test_artist_analytics(
    browser: Browser,
    plyr: PlyrServer,
    alice: SignedIn,
    short_track: dict[str, Any],
    long_track: dict[str, Any],
) -> None:
    now = utcnow()
    async with plyr.runtime.sessions() as db:
        track = await db.get(Track, long_track["id"])
        assert track is not None
        await _plays(db, track, 3, now - timedelta(days=2))
        await _plays(db, track, 2, now - timedelta(days=45))  # outside the 30 days
        await db.commit()
    async with alice.client(plyr) as http:
        analytics = (await http.get("/api/me/analytics")).json()
    async with httpx.AsyncClient(base_url=plyr.url) as anyone:
        assert (await anyone.get("/api/me/analytics")).status_code == 401
    per_track = {t["id"]: t for t in analytics["tracks"]}
    assert per_track[long_track["id"]]["plays"] == 5
    assert per_track[long_track["id"]]["recent_plays"] == 3
    assert len(analytics["per_day"]) == 30
    assert analytics["per_day"][-1]["day"] == now.date().isoformat()
    by_day = {d["day"]: d["plays"] for d in analytics["per_day"]}
    assert by_day[(now - timedelta(days=2)).date().isoformat()] >= 3
    assert analytics["recent_plays"] == sum(by_day.values())
    assert analytics["total_plays"] == sum(t["plays"] for t in analytics["tracks"])

    # The portal shows it as bars with the numbers in text; and home; at desktop and phone.
    host = plyr.url.removeprefix("http://").split(":")[0]
    for width, height in ((1280, 800), (375, 740)):
        context = await browser.new_context(viewport={"width": width, "height": height})
        await context.add_cookies(
            [{"name": COOKIE_NAME, "value": alice.cookie, "domain": host, "path": "/"}]
        )
        page = await context.new_page()
        await page.goto(f"{plyr.url}/portal")
        section = page.get_by_role("region", name="plays", exact=True)
        await section.wait_for()
        row = page.locator("[data-analytics-tracks] tr", has_text="twenty seconds")
        assert "5" in await row.inner_text()
        assert await page.get_by_role("img", name=re.compile("per day")).count() == 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await section.screenshot(path=ARTIFACTS / f"listening-portal-analytics-{width}.png")
        stats.clear_cache()
        top.clear_cache()
        await page.goto(f"{plyr.url}/")
        await page.get_by_role("heading", name="top this week").wait_for()
        await page.screenshot(path=ARTIFACTS / f"listening-home-{width}.png", full_page=True)
        await context.close()
