"""scrobble and getNowPlaying: a submission is a counted play (once per listen, as the web
player's), and a teal.fm play record in the listener's PDS when they turned scrobbling on;
`submission=false` is what they play now, which getNowPlaying and plyr's web API show. Bad
ids 70, nothing counted. Both auth modes, py-opensonic and raw calls, XML schema-checked.

The module plays tracks of its own (the library's play counts stay as other tests expect)
and a listener of its own with scrobbling on."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from libopensonic import errors
from playwright.async_api import Browser
from sqlalchemy import delete, select

from plyr import ratelimit
from plyr.atproto.devnet import Network
from plyr.db.models import Job, RateLimitHit, Track
from plyr.listening import reported
from plyr.listening import scrobble as teal
from plyr.runtime import Runtime
from tests.subsonic.actions import (
    Listener,
    new_listener,
    pds_records,
    records_when,
    song,
    web_track,
    xml_pairs,
)
from tests.subsonic.conftest import make_app_password, opensonic, raw
from tests.subsonic.schema import NS, checked_xml, child, error_code
from tests.support.audio import make_audio
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, upload_published


@pytest.fixture(scope="module")
async def tunes(
    plyr: PlyrServer, alice: SignedIn, tmp_path_factory: pytest.TempPathFactory
) -> tuple[int, int]:
    """Two 3 s tracks of Alice's (a play counts after 0.9 s) for this module's plays."""
    folder = tmp_path_factory.mktemp("scrobbled")
    found = []
    async with alice.client(plyr) as http:
        for number, title in enumerate(("scrobbled one", "scrobbled two")):
            source = make_audio(folder / f"{number}.mp3", "mp3", 3.0, 500 + 60 * number)
            found.append(int((await upload_published(http, source, title=title))["id"]))
    return found[0], found[1]


@pytest.fixture(scope="module")
async def scrobbler(
    browser: Browser, plyr: PlyrServer, atproto_net: Network
) -> tuple[Listener, str]:
    """A listener of this module's with teal.fm scrobbling on, and their app password."""
    listener = await new_listener(browser, plyr, atproto_net, "scrobbler", scrobbling=True)
    return listener, await make_app_password(plyr, listener.signed_in)


async def _plays(plyr: PlyrServer, track_id: int) -> int:
    return int((await web_track(plyr, track_id))["play_count"])


async def _teal_jobs(plyr: PlyrServer, did: str) -> list[Job]:
    async with plyr.runtime.sessions() as db:
        jobs = (await db.execute(select(Job).where(Job.kind == teal.JOB_KIND))).scalars()
        return [job for job in jobs if job.payload.get("did") == did]


async def test_a_submission_counts_a_play_once(
    plyr: PlyrServer, alice: SignedIn, alice_key: str, tunes: tuple[int, int]
) -> None:
    one, two = tunes
    start = await _plays(plyr, one)
    heard = time.time() - 600
    async with opensonic(plyr, api_key=alice_key) as sonic:
        assert await sonic.scrobble(song(one), listen_time=heard)
        assert await _plays(plyr, one) == start + 1
        assert await sonic.scrobble(song(one), listen_time=heard)  # sent again: the same listen
        assert await sonic.scrobble(song(one), listen_time=heard + 0.5)  # within that listen
        assert await _plays(plyr, one) == start + 1
        assert await sonic.scrobble(song(one), listen_time=heard + 30)  # a later listen
        assert await _plays(plyr, one) == start + 2
    # Offline plays sent together, one time for each id (ms since 1970).
    before_two = await _plays(plyr, two)
    later = int((heard + 120) * 1000)
    async with raw(plyr) as http:
        pairs = [("id", song(one)), ("time", str(later)), ("id", song(two))]
        root = await xml_pairs(
            http, "scrobble", [("apiKey", alice_key), *pairs, ("time", str(later + 5000))]
        )
        assert error_code(root) is None
    assert (await _plays(plyr, one), await _plays(plyr, two)) == (start + 3, before_two + 1)
    # Alice never turned teal.fm scrobbling on: her plays write nothing to her PDS.
    assert await _teal_jobs(plyr, alice.did) == []


async def test_a_play_is_a_teal_record_when_scrobbling_is_on(
    plyr: PlyrServer,
    scrobbler: tuple[Listener, str],
    tunes: tuple[int, int],
    atproto_net: Network,
) -> None:
    listener, password = scrobbler
    one = tunes[0]
    # Within the last 14 days (older reports do not count), at a known millisecond.
    heard = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=250000)
    collection = plyr.settings.teal_play_collection
    async with opensonic(plyr, username=listener.handle, password=password) as sonic:
        assert await sonic.scrobble(song(one), listen_time=heard.timestamp())
        assert await sonic.scrobble(song(one), listen_time=heard.timestamp())  # counted once
    records = await records_when(atproto_net, listener.did, collection, lambda rs: len(rs) >= 1)
    (play,) = records
    assert play["value"]["playedTime"] == heard.strftime("%Y-%m-%dT%H:%M:%S.250Z")
    assert play["value"]["trackName"] == "scrobbled one"
    assert play["value"]["originUrl"] == f"{plyr.url}/tracks/{one}"
    assert len(await _teal_jobs(plyr, listener.did)) == 1
    assert len(await pds_records(atproto_net, listener.did, collection)) == 1


async def test_now_playing(
    plyr: PlyrServer,
    alice: SignedIn,
    alice_key: str,
    alice_password: str,
    tunes: tuple[int, int],
) -> None:
    two = tunes[1]
    start = await _plays(plyr, two)
    async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
        assert await sonic.scrobble(song(two), submission=False)
        entries = [e for e in await sonic.get_now_playing() if e.username == "alice.test"]
    assert [(e.id, e.title, e.minutes_ago, e.player_id) for e in entries] == [
        (song(two), "scrobbled two", 0, 1)
    ]
    assert await _plays(plyr, two) == start  # now playing counts no play
    async with raw(plyr) as http:
        root = await xml_pairs(http, "getNowPlaying", [("apiKey", alice_key)])
        listed = child(root, "nowPlaying").findall(f"{{{NS}}}entry")
        mine = [e.attrib for e in listed if e.attrib["username"] == "alice.test"]
        assert [(e["id"], e["playerId"], e["minutesAgo"]) for e in mine] == [(song(two), "1", "0")]
        # Begun two seconds ago: the web's now-playing says where in the track it is.
        began = int(time.time() * 1000) - 2000
        pairs = [("id", song(two)), ("submission", "false"), ("time", str(began))]
        assert (
            error_code(await xml_pairs(http, "scrobble", [("apiKey", alice_key), *pairs])) is None
        )
        shown = (await http.get(f"/api/now-playing/{alice.did}")).json()
        assert shown["track"]["id"] == two
        assert shown["position_ms"] >= 1900
    async with alice.client(plyr) as http:
        assert (await http.delete("/api/now-playing")).status_code == 204
    async with opensonic(plyr, api_key=alice_key) as sonic:
        assert "alice.test" not in [e.username for e in await sonic.get_now_playing()]


async def test_bad_scrobbles_count_nothing(
    plyr: PlyrServer, alice_key: str, tunes: tuple[int, int]
) -> None:
    one = tunes[0]
    start = await _plays(plyr, one)
    now = str(int(time.time() * 1000))
    async with raw(plyr) as http:
        for pairs, code in (
            ([("id", "nonsense")], 70),
            ([("id", "tr-999999999")], 70),
            ([("id", "al-1")], 70),
            ([("id", song(one)), ("id", "tr-999999999")], 70),
            ([], 10),
            ([("id", song(one)), ("time", now), ("time", now)], 0),  # one time per id
            ([("id", song(one)), ("time", "yesterday")], 0),
            ([("id", song(one)), ("submission", "maybe")], 0),
        ):
            root = await xml_pairs(http, "scrobble", [("apiKey", alice_key), *pairs])
            assert error_code(root) == code, pairs
    async with opensonic(plyr, api_key=alice_key) as sonic:
        with pytest.raises(errors.DataNotFoundError):
            await sonic.scrobble("tr-999999999")
    assert await _plays(plyr, one) == start


async def test_reports_out_of_range_or_overlapping_count_nothing(
    plyr: PlyrServer, alice_key: str, tunes: tuple[int, int]
) -> None:
    """Times from the last 14 days only (a little ahead is now), listens that overlap none
    of the listener's others (a 3 s track lasts 3 s), at most 50 ids a call."""
    one, two = tunes
    start = await _plays(plyr, one), await _plays(plyr, two)
    now = time.time()
    async with raw(plyr) as http:

        async def report(*pairs: tuple[int, float]) -> int | None:
            sent = [("apiKey", alice_key)]
            for track, at in pairs:
                sent += [("id", song(track)), ("time", str(int(at * 1000)))]
            return error_code(await xml_pairs(http, "scrobble", sent))

        assert await report((one, now - 15 * 86400)) is None  # too old: ok, not counted
        assert await report((one, now + 3600)) is None  # a clock an hour ahead: not counted
        assert (await _plays(plyr, one), await _plays(plyr, two)) == start
        # Two tracks cannot play at once: the second, 2 s into the first's 3 s, is not a play.
        at = now - 5 * 86400
        assert await report((one, at), (two, at + 2)) is None
        assert (await _plays(plyr, one), await _plays(plyr, two)) == (start[0] + 1, start[1])
        assert await report((two, at + 3.5)) is None  # after it ended: a play
        assert await _plays(plyr, two) == start[1] + 1
        too_many = [("apiKey", alice_key)] + [("id", song(one))] * 51
        assert error_code(await xml_pairs(http, "scrobble", too_many)) == 0
    assert (await _plays(plyr, one), await _plays(plyr, two)) == (start[0] + 1, start[1] + 1)


async def test_a_listener_has_a_budget_of_plays(
    plyr: PlyrServer,
    alice: SignedIn,
    alice_key: str,
    tunes: tuple[int, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One play per 30 s of time: a call past the hour's budget is refused whole (429,
    error 0), nothing counted. Each track is checked once, however often it is named."""
    one, two = tunes
    start = await _plays(plyr, one), await _plays(plyr, two)
    bucket = f"scrobble:{alice.did}"
    limit = 3600 // 30
    checked: list[int] = []
    real_check = reported.check_reportable

    async def counting(runtime: Runtime, track_id: int, did: str) -> Track:
        checked.append(track_id)  # the real check, counted
        return await real_check(runtime, track_id, did)

    monkeypatch.setattr(reported, "check_reportable", counting)
    at = time.time() - 3 * 86400
    try:
        await ratelimit.hit(plyr.runtime, bucket, limit=limit, window_seconds=3600, cost=limit - 1)
        async with raw(plyr) as http:
            pairs = [("id", song(one)), ("time", str(int(at * 1000)))]
            pairs += [("id", song(two)), ("time", str(int((at + 10) * 1000)))]
            pairs += [("id", song(one)), ("time", str(int((at + 20) * 1000)))]
            answer = await http.get(
                "/rest/scrobble",
                params=[("v", "1.16.1"), ("c", "t"), ("apiKey", alice_key), *pairs],
            )
            assert answer.status_code == 429
            assert error_code(checked_xml(answer.content)) == 0
        assert sorted(checked) == sorted([one, two])  # each once
        assert (await _plays(plyr, one), await _plays(plyr, two)) == start
    finally:
        async with plyr.runtime.sessions() as db:
            await db.execute(delete(RateLimitHit).where(RateLimitHit.bucket == bucket))
            await db.commit()
