"""`/api/queue`: the signed-in listener's queue, shared by their devices and tabs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from plyr.runtime import Runtime
from plyr.tracks import queue
from plyr.web.shared.caller import CallerDep, CsrfDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.views import TrackOut, track_out

router = APIRouter(tags=["player"])


class QueueOut(BaseModel):
    revision: int
    tracks: list[TrackOut]
    current: int
    position_ms: int


class QueueIn(BaseModel):
    revision: Annotated[int, Field(ge=0)]
    track_ids: Annotated[list[int], Field(max_length=queue.MAX_QUEUE)]
    current: Annotated[int, Field(ge=0)] = 0
    position_ms: Annotated[int, Field(ge=0)] = 0


def _out(runtime: Runtime, state: queue.QueueState) -> QueueOut:
    return QueueOut(
        revision=state.revision,
        tracks=[track_out(runtime, track, []) for track in state.tracks],
        current=state.current,
        position_ms=state.position_ms,
    )


@router.get("/api/queue")
async def get_queue(runtime: RuntimeDep, caller: CallerDep) -> QueueOut:
    """The queue as the caller's devices last left it."""
    return _out(runtime, await queue.get_queue(runtime, caller.did))


@router.put("/api/queue", response_model=QueueOut, responses={409: {"model": QueueOut}})
async def put_queue(
    body: QueueIn, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> QueueOut | JSONResponse:
    """Replace the queue. Send the revision you read; a stale one gets 409 with the
    current queue, so two devices never silently overwrite each other."""
    try:
        state = await queue.put_queue(
            runtime,
            caller.did,
            revision=body.revision,
            track_ids=body.track_ids,
            current=body.current,
            position_ms=body.position_ms,
        )
    except queue.StaleQueue as stale:
        return JSONResponse(_out(runtime, stale.state).model_dump(), status_code=409)
    return _out(runtime, state)
