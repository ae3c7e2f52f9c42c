"""Jams over the API (plyr.listening.jams, web/api/jams.py): who may do what, the
timeline's arithmetic, hand-over and leaving, the event stream, and a track that ends
giving way to the next without anyone's word."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from plyr.auth.sessions import COOKIE_NAME
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn


async def start(http: httpx.AsyncClient, track_ids: list[int], **fields: Any) -> dict[str, Any]:
    answer = await http.post("/api/jams", json={"track_ids": track_ids, **fields})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def test_only_the_host_controls_and_control_can_be_handed_over(
    plyr: PlyrServer,
    alice: SignedIn,
    carol: SignedIn,
    bob: SignedIn,
    long_track: dict[str, Any],
    short_track: dict[str, Any],
) -> None:
    async with alice.client(plyr) as host, carol.client(plyr) as guest, bob.client(plyr) as other:
        jam = await start(host, [long_track["id"], short_track["id"]], position_ms=2000)
        code = jam["code"]
        assert len(code) >= 16
        assert jam["url"] == f"/jam/{code}"
        assert jam["host"]["did"] == alice.did
        assert [m["did"] for m in jam["members"]] == [alice.did]
        assert jam["track"]["id"] == long_track["id"]
        assert [t["id"] for t in jam["queue"]] == [short_track["id"]]
        assert jam["playing"] is True
        assert jam["position_ms"] == 2000

        # Reading needs a session; every change needs CSRF too.
        async with httpx.AsyncClient(base_url=plyr.url) as anyone:
            assert (await anyone.get(f"/api/jams/{code}")).status_code == 401
            assert (await anyone.post(f"/api/jams/{code}/members")).status_code == 401
            assert (await anyone.get("/api/clock")).status_code == 200
            # The page asks a signed-out visitor to sign in first.
            page = await anyone.get(f"/jam/{code}", headers={"Accept": "text/html"})
            assert page.status_code in (302, 303, 307)
            assert "/login" in page.headers["location"]
        async with httpx.AsyncClient(
            base_url=plyr.url, cookies={COOKIE_NAME: carol.cookie}
        ) as no_csrf:
            assert (await no_csrf.post(f"/api/jams/{code}/members")).status_code == 403
        assert (await guest.get("/api/jams/NoSuchJamCode123")).status_code == 404

        # Without `Accept: text/event-stream` the event stream answers the jam once.
        once = await guest.get(f"/api/jams/{code}/events")
        assert once.status_code == 200
        assert once.text.count("event: jam") == 1

        joined = (await guest.post(f"/api/jams/{code}/members")).json()
        assert [m["did"] for m in joined["members"]] == [alice.did, carol.did]
        assert (await guest.post(f"/api/jams/{code}/members")).status_code == 200  # again: same

        # A member who is not the host changes nothing.
        for body in ({"action": "pause"}, {"action": "seek", "position_ms": 1}):
            refused = await guest.post(f"/api/jams/{code}/control", json=body)
            assert refused.status_code == 403, refused.text
        assert (
            await guest.put(f"/api/jams/{code}/host", json={"did": carol.did})
        ).status_code == 403
        assert (await guest.delete(f"/api/jams/{code}")).status_code == 403

        # The timeline: a pause holds the position; a seek moves it; play resumes from it.
        paused = (await host.post(f"/api/jams/{code}/control", json={"action": "pause"})).json()
        assert paused["playing"] is False
        assert paused["position_ms"] >= 2000
        sought = await host.post(
            f"/api/jams/{code}/control", json={"action": "seek", "position_ms": 7000}
        )
        assert sought.json()["position_ms"] == 7000
        assert sought.json()["playing"] is False
        resumed = (await host.post(f"/api/jams/{code}/control", json={"action": "play"})).json()
        assert resumed["playing"] is True
        assert resumed["position_ms"] == 7000
        assert resumed["anchor_ms"] <= resumed["server_ms"]
        # A seek past the end stops at the end.
        past = await host.post(
            f"/api/jams/{code}/control", json={"action": "seek", "position_ms": 10**9}
        )
        assert past.json()["position_ms"] == long_track["duration"] * 1000

        # "My track ended" from a player that is behind counts once.
        moved = await host.post(
            f"/api/jams/{code}/control",
            json={"action": "next", "from_track_id": long_track["id"]},
        )
        assert moved.json()["track"]["id"] == short_track["id"]
        assert moved.json()["queue"] == []
        again = await host.post(
            f"/api/jams/{code}/control",
            json={"action": "next", "from_track_id": long_track["id"]},
        )
        assert again.json()["track"]["id"] == short_track["id"]
        added = await host.post(
            f"/api/jams/{code}/control", json={"action": "add", "track_id": long_track["id"]}
        )
        assert [t["id"] for t in added.json()["queue"]] == [long_track["id"]]
        missing = await host.post(
            f"/api/jams/{code}/control", json={"action": "add", "track_id": 10**12}
        )
        assert missing.status_code == 404

        # Hand-over: only to a member.
        assert (await host.put(f"/api/jams/{code}/host", json={"did": bob.did})).status_code == 404
        handed = await host.put(f"/api/jams/{code}/host", json={"did": carol.did})
        assert handed.json()["host"]["did"] == carol.did
        assert (
            await host.post(f"/api/jams/{code}/control", json={"action": "pause"})
        ).status_code == 403
        assert (
            await guest.post(f"/api/jams/{code}/control", json={"action": "pause"})
        ).status_code == 200

        # Bob joins; the host (carol) leaves: control goes to the earliest joined, alice.
        await other.post(f"/api/jams/{code}/members")
        assert (await guest.delete(f"/api/jams/{code}/members/me")).status_code == 204
        after = (await other.get(f"/api/jams/{code}")).json()
        assert after["host"]["did"] == alice.did
        assert [m["did"] for m in after["members"]] == [alice.did, bob.did]
        # Alice leaves too: bob hosts; bob leaves: nobody is left and the jam ends.
        await host.delete(f"/api/jams/{code}/members/me")
        assert (await other.get(f"/api/jams/{code}")).json()["host"]["did"] == bob.did
        await other.delete(f"/api/jams/{code}/members/me")
        ended = (await other.get(f"/api/jams/{code}")).json()
        assert ended["ended"] is True
        assert ended["playing"] is False
        late = await other.post(f"/api/jams/{code}/members")
        assert late.status_code == 409
        assert late.json()["error"]["code"] == "jam_ended"


async def events(http: httpx.AsyncClient, code: str) -> AsyncIterator[dict[str, Any]]:
    headers = {"Accept": "text/event-stream"}
    async with http.stream("GET", f"/api/jams/{code}/events", headers=headers) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        event: str | None = None
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "jam":
                yield json.loads(line.removeprefix("data: "))


async def test_the_event_stream_tells_every_change_and_a_track_ending(
    plyr: PlyrServer,
    alice: SignedIn,
    carol: SignedIn,
    short_track: dict[str, Any],
    long_track: dict[str, Any],
) -> None:
    async with alice.client(plyr) as host, carol.client(plyr) as guest:
        # 2.9 s into a 3 s track: it ends on the server's clock without anyone saying so.
        jam = await start(host, [short_track["id"], long_track["id"]], position_ms=2900)
        code = jam["code"]
        seen = events(guest, code)
        async with asyncio.timeout(20):
            first = await anext(seen)
            assert first["track"]["id"] == short_track["id"]
            await guest.post(f"/api/jams/{code}/members")
            joined = await anext(seen)
            assert joined["version"] > first["version"]
            assert carol.did in [m["did"] for m in joined["members"]]
            moved_on = await anext(seen)
            assert moved_on["track"]["id"] == long_track["id"]
            assert moved_on["playing"] is True
            assert moved_on["position_ms"] == 0
            await host.delete(f"/api/jams/{code}")
            last = await anext(seen)
            assert last["ended"] is True
            # The stream ends with the jam.
            assert await anext(seen, None) is None


async def test_a_jam_drops_tracks_no_one_may_play(
    plyr: PlyrServer, alice: SignedIn, long_track: dict[str, Any]
) -> None:
    async with alice.client(plyr) as host:
        jam = await start(host, [10**12, long_track["id"], long_track["id"]], playing=False)
        assert jam["track"]["id"] == long_track["id"]
        assert jam["queue"] == []
        assert jam["playing"] is False
        empty = await start(host, [])
        assert empty["track"] is None
        assert empty["playing"] is False
        nothing = await host.post(f"/api/jams/{empty['code']}/control", json={"action": "play"})
        assert nothing.status_code == 409
        await host.delete(f"/api/jams/{jam['code']}")
        await host.delete(f"/api/jams/{empty['code']}")
