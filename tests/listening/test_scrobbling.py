"""teal.fm scrobbles: a counted play written once to the listener's PDS, none when it is off."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from plyr.atproto.devnet import Network
from plyr.db.models import Job, JobStatus, Play
from plyr.listening import scrobble
from tests.support.listening import PLAY, STATUS
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn

pytestmark = pytest.mark.browser


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
