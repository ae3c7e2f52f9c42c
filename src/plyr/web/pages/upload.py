"""The upload page: the form (with JavaScript it posts to the API and follows the progress
stream), the plain form post without JavaScript, and the progress of an upload after a
reload (`?upload=`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plyr.db.text import storable
from plyr.errors import ServiceError
from plyr.tracks.progress import upload_progress
from plyr.web.shared.caller import BrowserDep, CsrfDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.templating import render
from plyr.web.shared.uploads import receive_upload

router = APIRouter(include_in_schema=False)

PHASES = (
    ("sending", "send"),
    ("probing", "read"),
    ("hashing", "check"),
    ("transcoding", "convert"),
    ("loudness", "measure"),
    ("artwork", "artwork"),
    ("publishing", "publish"),
    ("published", "done"),
)


def _human_size(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


@router.get("/upload", response_class=HTMLResponse)
async def upload_page(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    upload: Annotated[str | None, Query(max_length=36)] = None,
) -> HTMLResponse:
    progress = None
    if upload and storable(upload):  # an id, never a NUL (PostgreSQL refuses those)
        try:
            progress = await upload_progress(runtime, upload, caller.did)
        except ServiceError:
            progress = None
    return render(
        request,
        "upload.html",
        {
            "title": "upload",
            "progress": progress,
            "phases": PHASES,
            "max_upload": _human_size(runtime.settings.max_upload_bytes),
            "error": None,
        },
    )


@router.post("/upload")
async def upload_without_script(
    request: Request, runtime: RuntimeDep, caller: BrowserDep, _csrf: CsrfDep
) -> Response:
    """The plain form post (no JavaScript): the same checks, then the progress page."""
    settings = runtime.settings
    try:
        accepted = await receive_upload(request, runtime, caller)
    except ServiceError as exc:
        return render(
            request,
            "upload.html",
            {
                "title": "upload",
                "progress": None,
                "phases": PHASES,
                "max_upload": _human_size(settings.max_upload_bytes),
                "error": exc.message,
            },
            status_code=exc.status,
        )
    return RedirectResponse(f"/upload?upload={accepted.id}", status_code=303)
