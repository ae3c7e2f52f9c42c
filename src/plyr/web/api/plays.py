"""Plays over the JSON API: the player starts a listen when playback starts and reports the
play with its token once it counts (30 % of the track or 30 s)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field, StrictInt

from plyr.listening import plays
from plyr.web.shared.caller import OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import error_responses
from plyr.web.shared.examples import with_examples
from plyr.web.shared.params import PathId

router = APIRouter(tags=["tracks"])


# The shape of a real listen token (a signed {track, listen, start}); not a secret.
LISTEN_TOKEN = (
    "eyJ0Ijo0MiwibCI6IjNmNmMxYTllMmI3ZDRjMGU4ZjFhMmIzYzRkNWU2ZjcwIiwicyI6MTc0NzIwNzg3Mi40ODJ9"  # noqa: S105
    ".L9gT9aeQSZxn8NlBdnMbbS9W"
)


class ListenStarted(BaseModel):
    model_config = with_examples({"listen_token": LISTEN_TOKEN, "threshold_ms": 30000})

    listen_token: str
    threshold_ms: int


@router.post("/api/tracks/{track_id}/listens", status_code=201, responses=error_responses(404, 422))
async def start_listen(track_id: PathId, runtime: RuntimeDep) -> ListenStarted:
    """Call when playback starts; report the play with the token once it passes threshold_ms."""
    return ListenStarted(**await plays.start_listen(runtime, track_id))


class PlayReport(BaseModel):
    model_config = with_examples({"listen_token": LISTEN_TOKEN, "listened_ms": 31250})

    listen_token: Annotated[str, Field(max_length=400)]
    listened_ms: Annotated[StrictInt, Field(ge=0, le=24 * 3600 * 1000)]


class PlayCounted(BaseModel):
    model_config = with_examples({"play_count": 129})

    play_count: int = Field(description="the track's plays, this one included")


@router.post(
    "/api/plays",
    status_code=201,
    responses=error_responses(
        400,
        401,
        404,
        409,
        422,
        described={404: "the track is gone", 409: "this listen was already counted"},
    ),
)
async def report_play(
    report: PlayReport, runtime: RuntimeDep, caller: OptionalCaller
) -> PlayCounted:
    """Count a play: once per listen, and only after 30 % of the track or 30 s."""
    count = await plays.count_play(
        runtime, report.listen_token, report.listened_ms, caller.did if caller else None
    )
    return PlayCounted(play_count=count)
