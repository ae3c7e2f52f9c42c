"""`/api/queue`: the signed-in listener's queue, shared by their devices and tabs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictInt

from plyr.runtime import Runtime
from plyr.tracks import queue
from plyr.web.shared.caller import CallerDep, CsrfDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import error_responses
from plyr.web.shared.examples import TRACK, with_examples
from plyr.web.shared.params import MAX_COUNT, BodyId, Count
from plyr.web.shared.views import TrackOut, track_out

router = APIRouter(tags=["player"])


class QueueOut(BaseModel):
    model_config = with_examples(
        {"revision": 8, "tracks": [TRACK], "current": 0, "position_ms": 61500}
    )

    revision: int
    tracks: list[TrackOut]
    current: int
    position_ms: int


class QueueIn(BaseModel):
    model_config = with_examples(
        {"revision": 8, "track_ids": [42, 43], "current": 0, "position_ms": 0}
    )

    # The revision read; the server stores the next one, which must still fit.
    revision: Annotated[StrictInt, Field(ge=0, le=MAX_COUNT - 1)]
    track_ids: Annotated[list[BodyId], Field(max_length=queue.MAX_QUEUE)]
    current: Count = 0
    position_ms: Count = 0


def _out(runtime: Runtime, state: queue.QueueState) -> QueueOut:
    return QueueOut(
        revision=state.revision,
        tracks=[track_out(runtime, track, []) for track in state.tracks],
        current=state.current,
        position_ms=state.position_ms,
    )


@router.get("/api/queue", responses=error_responses(401))
async def get_queue(runtime: RuntimeDep, caller: CallerDep) -> QueueOut:
    """The queue as the caller's devices last left it."""
    return _out(runtime, await queue.get_queue(runtime, caller.did))


@router.put(
    "/api/queue",
    response_model=QueueOut,
    responses={
        409: {"model": QueueOut, "description": "a stale revision: the current queue"},
        **error_responses(400, 401, 403, 422),
    },
)
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
