"""Audio for the review page, for operators only: a flagged track (even taken down, when its
public `/audio/{id}` answers 451) and a reference work's imported audio. Both go out through
`serve_object`, so the players can seek (ranges); never cached by shared caches."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from plyr.moderation.review import StoredAudio, reference_audio, track_audio
from plyr.serving.serve import serve_object
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.operators import OperatorDep
from plyr.web.shared.params import PathId

router = APIRouter(include_in_schema=False)


async def _serve(request: Request, runtime: RuntimeDep, audio: StoredAudio) -> Response:
    response = await serve_object(
        request, runtime.storage, audio.key, content_type=audio.content_type, immutable=False
    )
    # Only operators may hear these: no shared cache may keep a copy for anyone else.
    response.headers["cache-control"] = "private, no-cache"
    return response


@router.api_route("/media/admin/tracks/{track_id}/audio", methods=["GET", "HEAD"])
async def flagged_track_audio(
    track_id: PathId, request: Request, runtime: RuntimeDep, _operator: OperatorDep
) -> Response:
    return await _serve(request, runtime, await track_audio(runtime, track_id))


@router.api_route("/media/admin/references/{work_id}/audio", methods=["GET", "HEAD"])
async def reference_work_audio(
    work_id: PathId, request: Request, runtime: RuntimeDep, _operator: OperatorDep
) -> Response:
    return await _serve(request, runtime, await reference_audio(runtime, work_id))
