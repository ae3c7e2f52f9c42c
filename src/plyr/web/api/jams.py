"""Jams over the JSON API: start one, read it, follow it (Server-Sent Events), join,
leave, the host's controls, hand-over and end; and the server's clock, which players
sample to estimate their offset from it. Thin over `plyr.listening.jams`."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, StrictBool

from plyr.listening.jams import hub, service
from plyr.listening.jams.state import JamView, now_ms, read_jam
from plyr.runtime import Runtime
from plyr.web.shared.caller import CallerDep, CsrfDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import error_responses
from plyr.web.shared.examples import ALICE, PERSON, TRACK, with_examples
from plyr.web.shared.limits import limit_writes
from plyr.web.shared.params import BodyId, Count
from plyr.web.shared.views import Person, TrackOut, person, track_out

router = APIRouter(tags=["player"])

JamCode = Annotated[
    str,
    Path(min_length=8, max_length=32, pattern=r"^[A-Za-z0-9_-]+$", description="the jam's code"),
]
_JAM = {
    "code": "Qx3vN8kP2mLr7tYw",
    "url": "/jam/Qx3vN8kP2mLr7tYw",
    "host": PERSON,
    "members": [PERSON],
    "track": TRACK,
    "queue": [],
    "position_ms": 61500,
    "anchor_ms": 1764950400000,
    "playing": True,
    "version": 7,
    "ended": False,
    "server_ms": 1764950401250,
}


class JamOut(BaseModel):
    """A jam: while `playing`, its position is `position_ms + (server now - anchor_ms)`
    (server clock, Unix ms; `GET /api/clock` to estimate your offset from it)."""

    model_config = with_examples(_JAM)

    code: str
    url: str
    host: Person
    members: list[Person]
    track: TrackOut | None
    queue: list[TrackOut]
    position_ms: int
    anchor_ms: int
    playing: bool
    version: int
    ended: bool
    server_ms: int


class JamStartIn(BaseModel):
    model_config = with_examples({"track_ids": [42, 43], "position_ms": 0, "playing": True})

    track_ids: Annotated[list[BodyId], Field(max_length=service.MAX_QUEUE + 1)] = []
    position_ms: Count = 0
    playing: StrictBool = True


class JamControlIn(BaseModel):
    model_config = with_examples(
        {"action": "seek", "position_ms": 30000},
        {"action": "add", "track_id": 43},
        {"action": "next", "from_track_id": 42},
    )

    action: Literal["play", "pause", "seek", "next", "add"]
    position_ms: Count | None = None  # seek
    track_id: BodyId | None = None  # add
    from_track_id: BodyId | None = None  # next: only if this track still plays


class JamHostIn(BaseModel):
    model_config = with_examples({"did": ALICE})

    did: Annotated[str, Field(min_length=1, max_length=2048)]


class ClockOut(BaseModel):
    model_config = with_examples({"server_ms": 1764950401250})

    server_ms: int


def jam_out(runtime: Runtime, view: JamView) -> JamOut:
    return JamOut(
        code=view.code,
        url=f"/jam/{view.code}",
        host=person(view.host),
        members=[person(member) for member in view.members],
        track=track_out(runtime, view.track, []) if view.track else None,
        queue=[track_out(runtime, track, []) for track in view.queue],
        position_ms=view.position_ms,
        anchor_ms=view.anchor_ms,
        playing=view.playing,
        version=view.version,
        ended=view.ended,
        server_ms=now_ms(),
    )


@router.get("/api/clock")
async def clock(response: Response) -> ClockOut:
    """The server's clock (Unix ms). Players ask it a few times and keep the answer with
    the shortest round trip to estimate their clock's offset (as NTP does)."""
    response.headers["Cache-Control"] = "no-store"
    return ClockOut(server_ms=now_ms())


@router.post("/api/jams", status_code=201, responses=error_responses(400, 401, 403, 422, 429))
async def start_jam(
    body: JamStartIn, request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> JamOut:
    """Start a jam you host, playing the first of `track_ids` from `position_ms` (the rest
    follow). Share its `url`: signed-in listeners who open it can join."""
    await limit_writes(runtime, request, caller.did)
    code = await service.start(
        runtime, caller.did, body.track_ids, position_ms=body.position_ms, playing=body.playing
    )
    return jam_out(runtime, await read_jam(runtime, code))


@router.get("/api/jams/{code}", responses=error_responses(401, 404, 422))
async def get_jam(code: JamCode, runtime: RuntimeDep, caller: CallerDep) -> JamOut:
    """The jam as it stands now (anyone signed in who has its code)."""
    return jam_out(runtime, await read_jam(runtime, code))


@router.get(
    "/api/jams/{code}/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "`jam` events (a JamOut)"},
        **error_responses(401, 404, 422),
    },
)
async def jam_events(
    code: JamCode, request: Request, runtime: RuntimeDep, caller: CallerDep
) -> StreamingResponse:
    """Server-Sent Events: a `jam` event with the jam now, then one whenever it changes,
    until it ends. A client that does not accept `text/event-stream` (as EventSource
    does) gets the first event only."""
    await read_jam(runtime, code)  # 404 before the stream starts
    follow = "text/event-stream" in request.headers.get("accept", "")

    async def events() -> AsyncIterator[str]:
        async with contextlib.aclosing(hub.views(runtime, code)) as views:
            async for view in views:
                if view is None:
                    yield ": keep-alive\n\n"
                    continue
                out = jam_out(runtime, view).model_dump()
                yield f"event: jam\ndata: {json.dumps(out)}\n\n"
                if not follow:
                    return

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post("/api/jams/{code}/members", responses=error_responses(401, 403, 404, 409, 422, 429))
async def join_jam(
    code: JamCode, request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> JamOut:
    """Join the jam (again: nothing changes)."""
    await limit_writes(runtime, request, caller.did)
    await service.join(runtime, code, caller.did)
    return jam_out(runtime, await read_jam(runtime, code))


@router.delete(
    "/api/jams/{code}/members/me",
    status_code=204,
    responses=error_responses(401, 403, 404, 409, 422, 429),
)
async def leave_jam(
    code: JamCode, request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> Response:
    """Leave the jam. The host leaving hands control to the member who joined first, or
    ends the jam when nobody is left."""
    await limit_writes(runtime, request, caller.did)
    await service.leave(runtime, code, caller.did)
    return Response(status_code=204)


@router.post(
    "/api/jams/{code}/control", responses=error_responses(400, 401, 403, 404, 409, 422, 429)
)
async def control_jam(
    code: JamCode,
    body: JamControlIn,
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    _csrf: CsrfDep,
) -> JamOut:
    """The host's controls: `play`, `pause`, `seek` (`position_ms`), `next` (with
    `from_track_id`: only while that track plays, so "my track ended" counts once) and
    `add` (`track_id` joins the upcoming tracks). Anyone else: 403."""
    await limit_writes(runtime, request, caller.did)
    await service.control(
        runtime,
        code,
        caller.did,
        body.action,
        position_ms=body.position_ms,
        track_id=body.track_id,
        from_track_id=body.from_track_id,
    )
    return jam_out(runtime, await read_jam(runtime, code))


@router.put("/api/jams/{code}/host", responses=error_responses(400, 401, 403, 404, 409, 422, 429))
async def hand_over_jam(
    code: JamCode,
    body: JamHostIn,
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    _csrf: CsrfDep,
) -> JamOut:
    """The host hands control to a member (`did`)."""
    await limit_writes(runtime, request, caller.did)
    await service.hand_over(runtime, code, caller.did, body.did)
    return jam_out(runtime, await read_jam(runtime, code))


@router.delete(
    "/api/jams/{code}", status_code=204, responses=error_responses(401, 403, 404, 409, 422, 429)
)
async def end_jam(
    code: JamCode, request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> Response:
    """The host ends the jam for everyone."""
    await limit_writes(runtime, request, caller.did)
    await service.end(runtime, code, caller.did)
    return Response(status_code=204)
