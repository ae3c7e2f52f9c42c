"""A track's waveform over the JSON API: the peaks the players draw (`plyr.tracks.waveforms`).
Thin: the domain decides who may see it; this answers it with its ETag (a 304 when the
caller's copy is current)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, Field

from plyr.tracks.waveforms import track_waveform
from plyr.web.shared.caller import OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import error_responses
from plyr.web.shared.examples import with_examples
from plyr.web.shared.operators import viewer_of
from plyr.web.shared.params import PathId

router = APIRouter(tags=["tracks"])

# Browsers keep it a minute, then ask again with If-None-Match (a 304 costs one row read).
# Private: a processing or taken-down track's waveform is its artist's alone.
CACHE_CONTROL = "private, max-age=60"


class WaveformOut(BaseModel):
    """A track's waveform: per bucket (evenly spaced over `duration`), the largest sample
    and the RMS, both linear amplitude quantised to 0..255."""

    model_config = with_examples(
        {
            "track_id": 42,
            "duration": 215.43,
            "peaks": [12, 96, 180, 255, 201, 143],
            "rms": [4, 40, 77, 120, 88, 51],
        }
    )

    track_id: int
    duration: float = Field(description="seconds of audio the buckets cover")
    peaks: list[int] = Field(description="the largest |sample| of any channel, 0..255")
    rms: list[int] = Field(description="the RMS over the channels, 0..255")


@router.get(
    "/api/tracks/{track_id}/waveform",
    summary="a track's waveform",
    response_model=WaveformOut,
    responses={
        304: {
            "description": "not modified: the `ETag` in `If-None-Match` still matches; no body",
            "headers": {
                "ETag": {"description": "the waveform's content hash", "schema": {"type": "string"}}
            },
        },
        **error_responses(
            401,
            404,
            422,
            451,
            described={404: "no such track, or its waveform is not computed yet"},
        ),
    },
)
async def get_waveform(
    track_id: PathId,
    response: Response,
    runtime: RuntimeDep,
    caller: OptionalCaller,
    if_none_match: Annotated[str | None, Header(max_length=2048)] = None,
) -> WaveformOut | Response:
    """The peaks and RMS of a track's audio (about 1000 buckets), for drawing it. Visible
    to whoever may play the track; 404 (`waveform_pending`) until a worker computed it.
    Answers carry an `ETag`: send it back in `If-None-Match` for a 304."""
    viewer, admin = viewer_of(runtime, caller)
    found = await track_waveform(
        runtime, track_id, viewer, admin=admin, if_none_match=if_none_match
    )
    headers = {"ETag": found.etag, "Cache-Control": CACHE_CONTROL, "Vary": "Cookie, Authorization"}
    if found.waveform is None:
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return WaveformOut(
        track_id=found.track_id,
        duration=found.waveform.duration,
        peaks=list(found.waveform.peaks),
        rms=list(found.waveform.rms),
    )
