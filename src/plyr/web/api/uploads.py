"""Uploads over the JSON API: `POST /api/tracks` accepts the multipart form and answers at
once; `/api/uploads/{id}` and its Server-Sent Events stream say where the upload stands."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from plyr.tracks.progress import Progress, upload_progress
from plyr.web.shared.caller import CallerDep, CsrfDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import error_responses
from plyr.web.shared.examples import with_examples
from plyr.web.shared.form_stream import BINARY, multipart_body
from plyr.web.shared.uploads import receive_upload

router = APIRouter(tags=["tracks"])

PROGRESS_POLL_SECONDS = 0.5
PROGRESS_MAX_SECONDS = 3600


_TEXT = {"type": "string"}
UPLOAD_FORM = multipart_body(
    {
        "file": {**BINARY, "description": "the audio; its bytes decide the format, not its name"},
        "title": _TEXT,
        "album": _TEXT,
        "description": _TEXT,
        "tags": {**_TEXT, "description": "comma-separated (or repeat the field)"},
        "features": {
            **_TEXT,
            "description": "featured artists' handles, comma-separated (or repeat the field)",
        },
        "self_labels": {
            **_TEXT,
            "description": "content warnings: sexual, porn, nudity, graphic-media "
            "(comma-separated or repeat the field)",
        },
        "lyrics": {**_TEXT, "description": "plain lyrics"},
        "synced_lyrics": {**_TEXT, "description": "synced lyrics, LRC (`[mm:ss.xx] words`)"},
        "lyrics_lang": {**_TEXT, "description": "the lyrics' language, BCP-47 (e.g. en)"},
        "image": {**BINARY, "description": "optional artwork"},
    },
    ["file"],
)


class UploadAccepted(BaseModel):
    model_config = with_examples(
        {
            "upload_id": "0d9c4b6e-2f1a-4e8b-b7c3-5a6d7e8f9012",
            "progress_url": "/api/uploads/0d9c4b6e-2f1a-4e8b-b7c3-5a6d7e8f9012/progress",
            "status_url": "/api/uploads/0d9c4b6e-2f1a-4e8b-b7c3-5a6d7e8f9012",
        }
    )

    upload_id: str
    progress_url: str
    status_url: str


@router.post(
    "/api/tracks",
    status_code=202,
    responses=error_responses(400, 401, 403, 413, 415, 422, 429),
    openapi_extra=UPLOAD_FORM,
)
async def upload_track(
    request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> UploadAccepted:
    """Upload audio (`file`) with `title`, `album`, `tags`, `features` (handles),
    `description`, content warnings (`self_labels`), lyrics (`lyrics` plain, `synced_lyrics`
    LRC, `lyrics_lang`) and optional artwork (`image`), as multipart/form-data. Returns at once;
    follow `progress_url` (Server-Sent Events) until the track is published."""
    upload = await receive_upload(request, runtime, caller)
    return UploadAccepted(
        upload_id=upload.id,
        progress_url=f"/api/uploads/{upload.id}/progress",
        status_url=f"/api/uploads/{upload.id}",
    )


@router.get("/api/uploads/{upload_id}", responses=error_responses(401, 404, 422))
async def upload_status(upload_id: UUID, runtime: RuntimeDep, caller: CallerDep) -> Progress:
    """Where your upload stands now (what the progress stream sends, read once): poll it
    when a stream is not an option."""
    return await upload_progress(runtime, str(upload_id), caller.did)


@router.get(
    "/api/uploads/{upload_id}/progress",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "`progress` events"},
        **error_responses(401, 404, 422),
    },
)
async def upload_progress_stream(
    upload_id: UUID, request: Request, runtime: RuntimeDep, caller: CallerDep
) -> StreamingResponse:
    """Server-Sent Events: a `progress` event whenever something changes, until done."""
    first = await upload_progress(runtime, str(upload_id), caller.did)

    async def events() -> AsyncIterator[str]:
        progress = first
        last: dict[str, Any] | None = None
        waited = 0.0
        while True:
            data = progress.model_dump()
            if data != last:
                yield f"event: progress\ndata: {json.dumps(data)}\n\n"
                last = data
            elif waited % 15 < PROGRESS_POLL_SECONDS:
                yield ": keep-alive\n\n"
            if progress.done or waited > PROGRESS_MAX_SECONDS or await request.is_disconnected():
                return
            await asyncio.sleep(PROGRESS_POLL_SECONDS)
            waited += PROGRESS_POLL_SECONDS
            progress = await upload_progress(runtime, str(upload_id), caller.did)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
