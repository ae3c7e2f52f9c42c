"""`tests/test_ownership.py`'s cases for the copyright review's mutations: how to make a
flag on alice's track (she is its artist and the one admin), a reference work or a decided
flag, call the operation, and read the result back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import httpx

from plyr.db.models import FalsePositiveReason, ReferenceWork
from plyr.moderation import flags, scanning
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn

MODERATION = "/api/admin/moderation"
Target = dict[str, Any]


class World(Protocol):
    plyr: PlyrServer
    alice: SignedIn

    async def upload(self) -> int: ...


async def _get(world: World, path: str) -> Any:
    async with world.alice.client(world.plyr) as http:
        response: httpx.Response = await http.get(path)
    return response.json()


async def new_work(world: World) -> Target:
    async with world.plyr.runtime.sessions() as db:
        work = ReferenceWork(
            title="known",
            artist="band",
            duration_seconds=30.0,
            engine="chromaprint-2",
            fingerprint=bytes(range(64)),
        )
        db.add(work)
        await db.commit()
        return {"work_id": work.id}


async def read_works(world: World, target: Target) -> Any:
    found = await _get(world, f"{MODERATION}/references?limit=500")
    return sorted(work["id"] for work in found["works"])


async def open_flag_on_track(world: World) -> Target:
    track_id = await world.upload()
    work_id = (await new_work(world))["work_id"]
    async with world.plyr.runtime.sessions() as db:
        flag = await scanning.open_flag(
            db,
            track_id=track_id,
            match_key=f"work:{work_id}",
            score=90,
            ranges=[],
            engine="chromaprint-2",
            work_id=work_id,
        )
        await db.commit()
    assert flag is not None
    return {"flag_id": flag.id}


async def decided_flag(world: World) -> Target:
    target = await open_flag_on_track(world)
    await flags.resolve(
        world.plyr.runtime,
        [target["flag_id"]],
        decision="false_positive",
        reason=FalsePositiveReason.other,
        actor="test",
    )
    return target


async def read_flag(world: World, target: Target) -> Any:
    found = await _get(world, f"{MODERATION}/flags/{target['flag_id']}")
    return found["status"], found["appeal_text"]


async def read_backfills(world: World, target: Target) -> Any:
    return len(await _get(world, f"{MODERATION}/audit?subject=tracks&limit=500"))


def fingerprint_form(world: World, target: Target) -> dict[str, Any]:
    printed = "DURATION=30\nFINGERPRINT=" + ",".join(str(n * 7919) for n in range(240))
    return {
        "files": {"file": ("known.txt", printed.encode(), "text/plain")},
        "data": {"title": "known", "artist": "band"},
    }


def _no_body(world: World, target: Target) -> dict[str, Any]:
    return {}


def _ids(world: World, target: Target) -> dict[str, Any]:
    return {"json": {"ids": [target["flag_id"]]}}


def _false_positive(world: World, target: Target) -> dict[str, Any]:
    return {"json": {"ids": [target["flag_id"]], "decision": "false_positive", "reason": "other"}}


def _appeal(world: World, target: Target) -> dict[str, Any]:
    return {"json": {"text": "this is my own song"}}


Case = tuple[
    Callable[[Any], Awaitable[Target]],
    Callable[[Any, Target], dict[str, Any]],
    Callable[[Any, Target], Awaitable[Any]],
]
# operation -> (make, request, read), as test_ownership's `Owned` takes them.
MODERATION_CASES: dict[str, Case] = {
    "POST /api/admin/moderation/flags/resolve": (open_flag_on_track, _false_positive, read_flag),
    "POST /api/admin/moderation/flags/reopen": (decided_flag, _ids, read_flag),
    "POST /api/admin/moderation/references": (new_work, fingerprint_form, read_works),
    "DELETE /api/admin/moderation/references/{work_id}": (new_work, _no_body, read_works),
    "POST /api/admin/moderation/backfill": (new_work, _no_body, read_backfills),
    # The artist of the flagged track (alice) may appeal it; bob may not.
    "POST /api/me/flags/{flag_id}/appeal": (open_flag_on_track, _appeal, read_flag),
}
