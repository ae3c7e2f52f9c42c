"""Exporting everything of the caller's (plyr.export): `GET /api/me/export` streams the zip
as it is made; `POST /api/me/exports` queues it as a job for big libraries, followed at
`GET /api/me/exports/{id}` and downloaded from `/download` until its link expires.

A HEAD to either download answers its headers without making or reading the zip (the
app's HEAD-as-GET fallback would build the whole zip only to drop it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from plyr.export import jobs
from plyr.export.archive import prepare
from plyr.runtime import Runtime
from plyr.web.shared.caller import CallerDep, CsrfDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import error_responses
from plyr.web.shared.examples import with_examples
from plyr.web.shared.limits import enforce

router = APIRouter(tags=["export"])

ZIP = "application/zip"
ZIP_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {ZIP: {"schema": {"type": "string", "format": "binary"}}},
        "description": "the zip",
    }
}
GONE = {410: "the export's link has expired; start a new one"}
NOT_READY = {409: "the export is still being made, or it failed (`message` says why)"}


class ExportOut(BaseModel):
    model_config = with_examples(
        {
            "id": "6b1f0a52-8c3e-4d7a-9e21-5f4c3b2a1d0e",
            "status": "ready",
            "progress": 1.0,
            "files": 27,
            "size_bytes": 184203311,
            "error": None,
            "created_at": "2025-05-14T07:31:12.482913Z",
            "expires_at": "2025-05-21T07:33:40.117204Z",
            "download_url": "/api/me/exports/6b1f0a52-8c3e-4d7a-9e21-5f4c3b2a1d0e/download",
        }
    )

    id: str
    status: str = Field(description="queued, running, ready, failed or expired")
    progress: float = Field(ge=0, le=1)
    files: int = Field(description="files in the zip so far")
    size_bytes: int | None
    error: str | None
    created_at: datetime
    expires_at: datetime | None = Field(description="when the download link stops working")
    download_url: str | None = Field(description="while ready")

    @classmethod
    def of(cls, view: jobs.ExportView) -> ExportOut:
        return cls(
            id=view.id,
            status=view.status,
            progress=view.progress,
            files=view.files,
            size_bytes=view.size_bytes,
            error=view.error,
            created_at=view.created_at,
            expires_at=view.expires_at,
            download_url=view.download_url,
        )


def _zip_headers(filename: str, size: int | None = None) -> dict[str, str]:
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",  # a proxy in front passes the chunks on as they come
    }
    if size is not None:
        headers["Content-Length"] = str(size)
    return headers


async def _limit(runtime: Runtime, request: Request, did: str) -> None:
    """Exports read a whole library: a few an hour per user and per address."""
    hourly = runtime.settings.rate_limit_exports_per_hour
    await enforce(runtime, request, did, "export", hourly, 3600)


@router.get(
    "/api/me/export",
    response_class=StreamingResponse,
    responses={**ZIP_ANSWER, **error_responses(401, 429, 503)},
)
async def export_now(request: Request, runtime: RuntimeDep, caller: CallerDep) -> StreamingResponse:
    """Everything you put on plyr as one zip, made while you download it: your originals as
    uploaded, artwork, your plyr records as your PDS holds them, and `manifest.json`. For a
    big library, `POST /api/me/exports` makes it in the background instead."""
    await _limit(runtime, request, caller.did)
    archive = await prepare(runtime, caller.did)
    return StreamingResponse(
        archive.chunks(), media_type=ZIP, headers=_zip_headers(archive.download_name)
    )


@router.head("/api/me/export", include_in_schema=False)
async def export_now_head(caller: CallerDep) -> Response:
    return Response(media_type=ZIP, headers=_zip_headers(f"plyr-{caller.handle}.zip"))


@router.post("/api/me/exports", status_code=202, responses=error_responses(401, 403, 429))
async def start_export(
    request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> ExportOut:
    """Make the zip in the background; follow it at `/api/me/exports/{id}`. An export
    already under way is answered instead of starting another."""
    await _limit(runtime, request, caller.did)
    return ExportOut.of(await jobs.start_export(runtime, caller.did))


@router.get("/api/me/exports/{export_id}", responses=error_responses(401, 404, 422))
async def export_status(export_id: UUID, runtime: RuntimeDep, caller: CallerDep) -> ExportOut:
    """How far your export has got; `download_url` once it is ready."""
    return ExportOut.of(await jobs.export_status(runtime, str(export_id), caller.did))


@router.get(
    "/api/me/exports/{export_id}/download",
    response_class=StreamingResponse,
    responses={
        **ZIP_ANSWER,
        **error_responses(401, 404, 409, 410, 422, described={**GONE, **NOT_READY}),
    },
)
async def download_export(
    export_id: UUID, runtime: RuntimeDep, caller: CallerDep
) -> StreamingResponse:
    """The finished zip of your export, until its link expires (410 after)."""
    download = await jobs.export_download(runtime, str(export_id), caller.did)
    return StreamingResponse(
        runtime.storage.get_range(download.key),
        media_type=ZIP,
        headers=_zip_headers(download.filename, download.size),
    )


@router.head("/api/me/exports/{export_id}/download", include_in_schema=False)
async def download_export_head(export_id: UUID, runtime: RuntimeDep, caller: CallerDep) -> Response:
    download = await jobs.export_download(runtime, str(export_id), caller.did)
    return Response(media_type=ZIP, headers=_zip_headers(download.filename, download.size))
