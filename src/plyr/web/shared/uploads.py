"""Receiving an upload over HTTP: the rate limit, the multipart body streamed to disk within
its size limits, then `tracks.uploads.accept_upload`. The API and the plain upload form
share it."""

from __future__ import annotations

from fastapi import Request

from plyr.db.models import Upload
from plyr.runtime import Runtime
from plyr.tracks.uploads import accept_upload
from plyr.web.shared.caller import Caller
from plyr.web.shared.form_stream import receive_form
from plyr.web.shared.limits import enforce


async def receive_upload(request: Request, runtime: Runtime, caller: Caller) -> Upload:
    """Rate limit, stream the form to disk, accept it."""
    settings = runtime.settings
    await enforce(
        runtime, request, caller.did, "upload", settings.rate_limit_uploads_per_hour, 3600
    )
    form = await receive_form(
        request,
        settings.data_dir / "tmp",
        {"file": settings.max_upload_bytes, "image": settings.max_image_bytes},
    )
    try:
        return await accept_upload(runtime, did=caller.did, session_id=caller.session.id, form=form)
    finally:
        form.cleanup()
