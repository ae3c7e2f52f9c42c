"""Listening end to end: now playing shared through the database (two plyr processes on
one PostgreSQL), teal.fm scrobbles written to the listener's PDS by the worker and checked
against the lexicons, catalogue stats, top and recently liked tracks, and the artist's
analytics. plyr (web + worker) on loopback against the real PDS; SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser
from sqlalchemy import func, select

from plyr.atproto.devnet import Network
from plyr.auth.sessions import COOKIE_NAME
from plyr.db.models import Artist, Job, JobStatus, Like, Play, PublishState, Track, utcnow
from plyr.listening import scrobble, stats, top
from tests.conftest import devnet_settings
from tests.support.audio import make_audio
from tests.support.browser import ARTIFACTS, sign_in_at_pds, sign_in_to_plyr
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, sign_in, upload_published

pytestmark = pytest.mark.browser

TTL = 2.5  # now_playing_ttl_seconds for these tests
PLAY = "fm.teal.alpha.feed.play"
STATUS = "fm.teal.alpha.actor.status"


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-listening"),
        db_url,
        atproto_net,
        now_playing_ttl_seconds=TTL,
    )
    async with running_plyr(settings, worker=True) as server:
        yield server
    await clear_tables(server.runtime.engine)


@pytest.fixture(scope="module")
async def alice(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    return await sign_in(browser, plyr, atproto_net, "alice.test")


@pytest.fixture(scope="module")
async def carol(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    """A listener who never turned scrobbling on."""
    return await sign_in(browser, plyr, atproto_net, "carol.test")


@pytest.fixture(scope="module")
async def bob(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    """A listener who turned scrobbling on in settings (a scope upgrade at the PDS)."""
    password = atproto_net.account("bob.test").password
    context = await browser.new_context()
    page = await context.new_page()
    await sign_in_to_plyr(page, plyr.url, "bob.test", password)
    await page.goto(f"{plyr.url}/settings")
    await page.get_by_role("button", name="turn scrobbling on").click()
    await sign_in_at_pds(page, handle="bob.test", password=password)
    await page.wait_for_url(re.compile(re.escape(f"{plyr.url}/settings")))
    await page.get_by_role("button", name="turn scrobbling off").wait_for()
    # The settings page links to the records in the PDS.
    links = page.locator("[data-scrobble-records] a")
    hrefs = [await links.nth(i).get_attribute("href") for i in range(await links.count())]
    assert any("com.atproto.repo.listRecords" in (h or "") and PLAY in (h or "") for h in hrefs)
    assert any("rkey=self" in (h or "") and STATUS in (h or "") for h in hrefs)
    cookie = next(c["value"] for c in await context.cookies() if c["name"] == COOKIE_NAME)
    await context.close()
    from plyr.auth.sessions import csrf_token, hash_secret

    did = atproto_net.account("bob.test").did
    return SignedIn(
        "bob.test", did, cookie, csrf_token(plyr.settings.secret_key_bytes(), hash_secret(cookie))
    )


@pytest.fixture(scope="module")
async def short_track(
    plyr: PlyrServer, alice: SignedIn, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Alice's published 3 s track (a play counts after 0.9 s)."""
    source = make_audio(tmp_path_factory.mktemp("short") / "short.mp3", "mp3", seconds=3.0)
    async with alice.client(plyr) as http:
        return await upload_published(http, source, title="three seconds", album="tiny tunes")


@pytest.fixture(scope="module")
async def long_track(
    plyr: PlyrServer, alice: SignedIn, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    source = make_audio(tmp_path_factory.mktemp("long") / "long.mp3", "mp3", seconds=20.0, freq=520)
    async with alice.client(plyr) as http:
        return await upload_published(http, source, title="twenty seconds")


async def count_a_play(http: httpx.AsyncClient, track_id: int) -> tuple[str, httpx.Response]:
    started = await http.post(f"/api/tracks/{track_id}/listens")
    assert started.status_code == 201, started.text
    listen = started.json()
    await asyncio.sleep(listen["threshold_ms"] / 1000 + 0.2)
    report = {"listen_token": listen["listen_token"], "listened_ms": listen["threshold_ms"] + 100}
    return listen["listen_token"], await http.post("/api/plays", json=report)


async def scrobble_jobs(plyr: PlyrServer, did: str) -> list[Job]:
    async with plyr.runtime.sessions() as db:
        jobs = (await db.execute(select(Job).where(Job.kind == scrobble.JOB_KIND))).scalars()
        return [job for job in jobs if job.payload.get("did") == did]


async def wait_for_jobs(plyr: PlyrServer, did: str, count: int) -> list[Job]:
    async with asyncio.timeout(30):
        while True:
            jobs = await scrobble_jobs(plyr, did)
            done = [j for j in jobs if j.status in (JobStatus.succeeded, JobStatus.failed)]
            if len(done) >= count:
                return jobs
            await asyncio.sleep(0.1)


async def pds_records(net: Network, did: str, collection: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{net.pds_url}/xrpc/com.atproto.repo.listRecords",
            params={"repo": did, "collection": collection, "limit": 100},
        )
    response.raise_for_status()
    return list(response.json()["records"])


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- teal.fm scrobbling --------------------------------------------------------------------


async def test_a_counted_play_is_scrobbled_once(
    plyr: PlyrServer, bob: SignedIn, short_track: dict[str, Any], atproto_net: Network
) -> None:
    # The PDS outlives each database's run: look only at records new in this test.
    earlier = {r["uri"] for r in await pds_records(atproto_net, bob.did, PLAY)}
    before = time.time()
    async with bob.client(plyr) as http:
        token, counted = await count_a_play(http, short_track["id"])
        assert counted.status_code == 201, counted.text
        jobs = await wait_for_jobs(plyr, bob.did, 1)
        assert [job.status for job in jobs] == [JobStatus.succeeded], [j.last_error for j in jobs]
        # The same listen again: refused, no second job, no second record.
        again = await http.post("/api/plays", json={"listen_token": token, "listened_ms": 2000})
        assert again.status_code == 409
    assert len(await scrobble_jobs(plyr, bob.did)) == 1

    plays = [r for r in await pds_records(atproto_net, bob.did, PLAY) if r["uri"] not in earlier]
    assert len(plays) == 1
    play = plays[0]["value"]
    plyr.runtime.lexicons.validate_record(PLAY, play)  # raises when a field is wrong
    assert play["trackName"] == "three seconds"
    assert play["artists"] == [{"artistName": short_track["artist"]}]
    assert play["duration"] == 3
    assert play["releaseName"] == "tiny tunes"
    assert play["originUrl"] == f"{plyr.url}/tracks/{short_track['id']}"
    assert play["musicServiceBaseDomain"] == "127.0.0.1"
    assert re.fullmatch(r"plyr/\d+\.\d+\.\d+.*", play["submissionClientAgent"])
    played = parse_time(play["playedTime"])
    assert before - 1 <= played.timestamp() <= time.time()
    # The key is a TID of the listen's start: the job's rkey, derived, never random.
    rkey = plays[0]["uri"].rsplit("/", 1)[1]
    assert rkey == jobs[0].payload["rkey"]

    status = await pds_records(atproto_net, bob.did, STATUS)
    assert [s["uri"].rsplit("/", 1)[1] for s in status] == ["self"]
    value = status[0]["value"]
    plyr.runtime.lexicons.validate_record(STATUS, value)
    assert value["item"]["trackName"] == "three seconds"
    assert parse_time(value["time"]) == played
    assert parse_time(value["expiry"]) - parse_time(value["time"]) == timedelta(minutes=10)

    # A retry of the same job (a crash after the write, say) rewrites the same record.
    async with plyr.runtime.sessions() as db:
        from plyr.jobs.queue import enqueue

        await enqueue(db, scrobble.JOB_KIND, dict(jobs[0].payload))
        await db.commit()
    await wait_for_jobs(plyr, bob.did, 2)
    now = [r["uri"] for r in await pds_records(atproto_net, bob.did, PLAY)]
    assert sorted(set(now) - earlier) == [plays[0]["uri"]]
    assert len(now) == len(earlier) + 1


async def test_no_scrobble_when_scrobbling_is_off(
    plyr: PlyrServer, carol: SignedIn, short_track: dict[str, Any], atproto_net: Network
) -> None:
    earlier = await pds_records(atproto_net, carol.did, PLAY)
    async with carol.client(plyr) as http:
        _, counted = await count_a_play(http, short_track["id"])
        assert counted.status_code == 201, counted.text
    async with plyr.runtime.sessions() as db:
        plays = await db.scalar(
            select(func.count()).select_from(Play).where(Play.listener_did == carol.did)
        )
    assert plays == 1  # counted…
    assert await scrobble_jobs(plyr, carol.did) == []  # …but nothing for her PDS
    await asyncio.sleep(0.5)
    assert await pds_records(atproto_net, carol.did, PLAY) == earlier == []
    assert await pds_records(atproto_net, carol.did, STATUS) == []


# --- now playing ---------------------------------------------------------------------------


async def test_now_playing_reports_positions_pause_stop_and_expiry(
    plyr: PlyrServer, bob: SignedIn, long_track: dict[str, Any]
) -> None:
    async with bob.client(plyr) as http, httpx.AsyncClient(base_url=plyr.url) as anyone:
        assert (await anyone.get(f"/api/now-playing/{bob.did}")).status_code == 204
        put = await http.put(
            "/api/now-playing",
            json={"track_id": long_track["id"], "position_ms": 1000, "paused": False},
        )
        assert put.status_code == 204, put.text
        first = await anyone.get(f"/api/now-playing/{bob.did}")
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["did"] == bob.did
        assert body["handle"] == "bob.test"
        assert body["paused"] is False
        assert body["track"]["id"] == long_track["id"]
        assert body["track"]["title"] == "twenty seconds"
        assert body["track"]["artist"] == long_track["artist"]
        assert body["track"]["duration"] == 20
        assert body["track"]["url"] == f"{plyr.url}/tracks/{long_track['id']}"
        assert "image_url" in body["track"]
        assert 1000 <= body["position_ms"] < 2000
        await asyncio.sleep(0.6)
        later = (await anyone.get(f"/api/now-playing/{bob.did}")).json()
        assert later["position_ms"] >= body["position_ms"] + 500  # extrapolated while playing

        by_handle = await anyone.get("/api/now-playing/by-handle/bob.test")
        assert by_handle.status_code == 200
        assert by_handle.json()["track"]["id"] == long_track["id"]
        assert (await anyone.get("/api/now-playing/by-handle/nobody.test")).status_code == 204

        # Paused: still there, and the position stands still.
        await http.put(
            "/api/now-playing",
            json={"track_id": long_track["id"], "position_ms": 4200, "paused": True},
        )
        paused = (await anyone.get(f"/api/now-playing/{bob.did}")).json()
        assert paused["paused"] is True
        assert paused["position_ms"] == 4200
        await asyncio.sleep(0.3)
        assert (await anyone.get(f"/api/now-playing/{bob.did}")).json()["position_ms"] == 4200

        # Stopped (DELETE): nothing plays.
        assert (await http.delete("/api/now-playing")).status_code == 204
        assert (await anyone.get(f"/api/now-playing/{bob.did}")).status_code == 204

        # The beacon variant: a form post carrying the CSRF token as a field.
        await http.put("/api/now-playing", json={"track_id": long_track["id"]})
        assert (await anyone.get(f"/api/now-playing/{bob.did}")).status_code == 200
        async with httpx.AsyncClient(
            base_url=plyr.url, cookies={COOKIE_NAME: bob.cookie}
        ) as beacon:
            refused = await beacon.post("/api/now-playing/stop", data={"csrf_token": "nope"})
            assert refused.status_code == 403
            stopped = await beacon.post("/api/now-playing/stop", data={"csrf_token": bob.csrf})
            assert stopped.status_code == 204
        assert (await anyone.get(f"/api/now-playing/{bob.did}")).status_code == 204

        # A player that goes silent drops out after the TTL.
        await http.put("/api/now-playing", json={"track_id": long_track["id"]})
        assert (await anyone.get(f"/api/now-playing/{bob.did}")).status_code == 200
        await asyncio.sleep(TTL + 0.3)
        assert (await anyone.get(f"/api/now-playing/{bob.did}")).status_code == 204

        # Bad reports change nothing.
        signed_out = await anyone.put("/api/now-playing", json={"track_id": long_track["id"]})
        assert signed_out.status_code == 401
        missing = await http.put("/api/now-playing", json={"track_id": 999_999})
        assert missing.status_code == 404
        async with httpx.AsyncClient(
            base_url=plyr.url, cookies={COOKIE_NAME: bob.cookie}
        ) as no_token:
            no_csrf = await no_token.put("/api/now-playing", json={"track_id": long_track["id"]})
            assert no_csrf.status_code == 403


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_now_playing_across_two_processes(
    plyr: PlyrServer, bob: SignedIn, long_track: dict[str, Any], db_url: str, tmp_path: Path
) -> None:
    """Report to this plyr, read from a second `plyr serve` process on the same database."""
    if not db_url.startswith("postgresql"):
        pytest.skip("several web processes share PostgreSQL (SQLite is one process)")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLYR_")}
    env |= {
        "PLYR_DATA_DIR": str(tmp_path / "data"),
        "PLYR_DATABASE_URL": db_url,
        "PLYR_SECRET_KEY": "test-secret-key-not-for-production",
        "PLYR_PORT": str(port),
        "PLYR_PLC_URL": plyr.settings.plc_url,
        "PLYR_ATPROTO_DEV_NETWORK": "true",
        "PLYR_NOW_PLAYING_TTL_SECONDS": str(TTL),
        "NO_COLOR": "1",
    }
    log = tmp_path / "second.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "plyr",
            "serve",
            "--no-worker",
            "--no-ingest",
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
        )
    second = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=second) as other, bob.client(plyr) as http:
            async with asyncio.timeout(30):
                while True:
                    assert process.returncode is None, log.read_text()
                    try:
                        if (await other.get("/health")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.2)
            await http.put(
                "/api/now-playing",
                json={"track_id": long_track["id"], "position_ms": 3000, "paused": False},
            )
            there = await other.get(f"/api/now-playing/{bob.did}")
            assert there.status_code == 200, there.text
            assert there.json()["track"]["id"] == long_track["id"]
            assert there.json()["position_ms"] >= 3000
            assert (await other.get("/api/now-playing/by-handle/bob.test")).status_code == 200
            await http.delete("/api/now-playing")
            assert (await other.get(f"/api/now-playing/{bob.did}")).status_code == 204
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()


async def poll_now_playing(
    plyr: PlyrServer, did: str, done: Callable[[httpx.Response], bool]
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=plyr.url) as anyone, asyncio.timeout(10):
        while True:
            response = await anyone.get(f"/api/now-playing/{did}")
            if done(response):
                return response
            await asyncio.sleep(0.1)


async def test_the_player_reports_now_playing(
    browser: Browser, plyr: PlyrServer, bob: SignedIn, long_track: dict[str, Any]
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    host = plyr.url.removeprefix("http://").split(":")[0]
    await context.add_cookies(
        [{"name": COOKIE_NAME, "value": bob.cookie, "domain": host, "path": "/"}]
    )
    page = await context.new_page()
    try:
        await page.goto(f"{plyr.url}/tracks/{long_track['id']}")
        await page.get_by_role("button", name="play twenty seconds").first.click()
        await page.wait_for_function("document.getElementById('player-audio').currentTime > 0.5")
        now = await poll_now_playing(plyr, bob.did, lambda r: r.status_code == 200)
        assert now.json()["track"]["id"] == long_track["id"]
        assert now.json()["paused"] is False
        await page.evaluate("document.getElementById('player-audio').pause()")
        await poll_now_playing(plyr, bob.did, lambda r: r.json()["paused"] is True)
        await page.goto("about:blank")  # leaving the page sends the stop beacon
        await poll_now_playing(plyr, bob.did, lambda r: r.status_code == 204)
    finally:
        await context.close()


# --- stats, top, recently liked, analytics ---------------------------------------------------


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
