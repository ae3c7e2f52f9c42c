"""Tracks over HTTP: upload, progress (Server-Sent Events), edit, delete, retry, plays,
and the audio and artwork themselves."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from plyr.db.models import PublishState, Track, Upload
from plyr.media.artwork import process_artwork
from plyr.media.errors import UnsafeImage, UnsupportedImage
from plyr.media.sniff import sniff_image
from plyr.runtime import Runtime
from plyr.storage.artwork import store_artwork
from plyr.tracks import service
from plyr.tracks.records import audio_url, image_url
from plyr.tracks.uploads import accept_upload
from plyr.web.auth import Caller, CallerDep, CsrfDep, OptionalCaller
from plyr.web.deps import RuntimeDep
from plyr.web.errors import ApiError
from plyr.web.form_stream import receive_form, received_image
from plyr.web.limits import enforce, limit_writes
from plyr.web.streaming import serve_object

log = logging.getLogger(__name__)
router = APIRouter(tags=["tracks"])

PROGRESS_POLL_SECONDS = 0.5
PROGRESS_MAX_SECONDS = 3600


class UploadAccepted(BaseModel):
    upload_id: str
    progress_url: str
    status_url: str


class TrackOut(BaseModel):
    id: int
    title: str
    artist: str
    artist_did: str
    album: str | None
    description: str | None
    tags: list[str]
    features: list[dict[str, Any]]
    duration: int | None
    file_type: str
    audio_url: str
    download_url: str
    image_url: str | None
    thumbnail_url: str | None
    gain_db: float | None
    play_count: int
    publish_state: str
    publish_error: str | None
    uri: str | None
    cid: str | None
    created_at: str


def track_out(runtime: Runtime, track: Track, tags: list[str]) -> TrackOut:
    settings = runtime.settings
    return TrackOut(
        id=track.id,
        title=track.title,
        artist=track.artist_name,
        artist_did=track.artist_did,
        album=track.album,
        description=track.description,
        tags=tags,
        features=list(track.features or []),
        duration=track.duration_seconds,
        file_type=track.file_type,
        audio_url=audio_url(settings, track.id),
        download_url=f"{audio_url(settings, track.id)}/download",
        image_url=image_url(settings, track.id) if track.image_key else None,
        thumbnail_url=f"{image_url(settings, track.id)}/thumb" if track.thumbnail_key else None,
        gain_db=track.gain_db,
        play_count=track.play_count,
        publish_state=track.publish_state.value,
        publish_error=track.publish_error,
        uri=track.atproto_uri,
        cid=track.atproto_cid,
        created_at=track.created_at.isoformat(),
    )


async def receive_upload(request: Request, runtime: Runtime, caller: Caller) -> Upload:
    """Rate limit, stream the form to disk, accept it: the API and the plain form share it."""
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


@router.post("/api/tracks", status_code=202)
async def upload_track(
    request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> UploadAccepted:
    """Upload audio (`file`) with `title`, `album`, `tags`, `features` (handles),
    `description` and optional artwork (`image`), as multipart/form-data. Returns at once;
    follow `progress_url` (Server-Sent Events) until the track is published."""
    upload = await receive_upload(request, runtime, caller)
    return UploadAccepted(
        upload_id=upload.id,
        progress_url=f"/api/uploads/{upload.id}/progress",
        status_url=f"/api/uploads/{upload.id}",
    )


@router.get("/api/uploads/{upload_id}")
async def upload_status(upload_id: str, runtime: RuntimeDep, caller: CallerDep) -> service.Progress:
    return await service.upload_progress(runtime, upload_id, caller.did)


@router.get("/api/uploads/{upload_id}/progress", response_class=StreamingResponse)
async def upload_progress_stream(
    upload_id: str, request: Request, runtime: RuntimeDep, caller: CallerDep
) -> StreamingResponse:
    """Server-Sent Events: a `progress` event whenever something changes, until done."""
    first = await service.upload_progress(runtime, upload_id, caller.did)

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
            progress = await service.upload_progress(runtime, upload_id, caller.did)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/api/tracks/{track_id}")
async def get_track(track_id: int, runtime: RuntimeDep) -> TrackOut:
    track = await service.get_track(runtime, track_id)
    return track_out(runtime, track, await service.tags_of(runtime, track_id))


class TrackEdit(BaseModel):
    title: str | None = Field(default=None, max_length=256)
    album: str | None = Field(default=None, max_length=256)
    description: str | None = Field(default=None, max_length=5000)
    tags: list[str] | None = Field(default=None, max_length=10)
    features: list[str] | None = Field(default=None, max_length=10)


@router.patch("/api/tracks/{track_id}")
async def edit_track(
    track_id: int,
    edit: TrackEdit,
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    _csrf: CsrfDep,
) -> TrackOut:
    """Change the track's details; the record in your PDS is rewritten (same key)."""
    await limit_writes(runtime, request, caller.did)
    track = await service.edit_track(
        runtime, track_id, caller.did, edit.model_dump(exclude_unset=True)
    )
    return track_out(runtime, track, await service.tags_of(runtime, track_id))


@router.post("/api/tracks/{track_id}/artwork")
async def replace_artwork(
    track_id: int, request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> TrackOut:
    """New artwork (`image`, multipart) for a track you own."""
    await service.owned_track(runtime, track_id, caller.did)
    async with received_image(request, runtime.settings) as (picture, work):
        try:
            await asyncio.to_thread(sniff_image, picture)
            artwork = await asyncio.to_thread(process_artwork, picture, work)
        except (UnsupportedImage, UnsafeImage) as exc:
            raise ApiError(415, "unsupported_image", str(exc)) from exc
        image_key, thumb_key = await store_artwork(runtime.storage, artwork)
    await service.set_artwork(runtime, track_id, caller.did, image_key, thumb_key)
    track = await service.get_track(runtime, track_id)
    return track_out(runtime, track, await service.tags_of(runtime, track_id))


@router.delete("/api/tracks/{track_id}", status_code=202)
async def delete_track(
    track_id: int, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> dict[str, str]:
    """Delete a track you own: from plyr at once, from your PDS and storage by a job."""
    await service.delete_track(runtime, track_id, caller.did, caller.session.id)
    return {"status": "deleting"}


@router.post("/api/tracks/{track_id}/publish", status_code=202)
async def retry_publish(
    track_id: int, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> dict[str, str]:
    """Try publishing a track again after it failed for good."""
    await service.retry_publish(runtime, track_id, caller.did)
    return {"status": "publishing"}


class ListenStarted(BaseModel):
    listen_token: str
    threshold_ms: int


@router.post("/api/tracks/{track_id}/listens", status_code=201)
async def start_listen(track_id: int, runtime: RuntimeDep) -> ListenStarted:
    """Call when playback starts; report the play with the token once it passes threshold_ms."""
    return ListenStarted(**await service.start_listen(runtime, track_id))


class PlayReport(BaseModel):
    listen_token: Annotated[str, Field(max_length=400)]
    listened_ms: Annotated[int, Field(ge=0, le=24 * 3600 * 1000)]


@router.post("/api/plays", status_code=201)
async def report_play(
    report: PlayReport, runtime: RuntimeDep, caller: OptionalCaller
) -> dict[str, int]:
    """Count a play: once per listen, and only after 30 % of the track or 30 s."""
    count = await service.count_play(
        runtime, report.listen_token, report.listened_ms, caller.did if caller else None
    )
    return {"play_count": count}


# --- the media itself -------------------------------------------------------------------


async def playable_track(runtime: Runtime, track_id: int, caller: Caller | None) -> Track:
    """A track anyone may play, or one still processing that the caller owns."""
    track = await service.get_track(runtime, track_id)
    own = caller is not None and caller.did == track.artist_did
    if track.publish_state == PublishState.processing and not own:
        raise ApiError(404, "not_found", "there is no such track")
    return track


@router.get("/audio/{track_id}", include_in_schema=False)
@router.head("/audio/{track_id}", include_in_schema=False)
async def stream_audio(
    track_id: int, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> Response:
    track = await playable_track(runtime, track_id, caller)
    key = track.stream_key or track.original_key
    content_type = track.stream_content_type or "application/octet-stream"
    return await serve_object(request, runtime.storage, key, content_type=content_type)


@router.get("/audio/{track_id}/download", include_in_schema=False)
@router.head("/audio/{track_id}/download", include_in_schema=False)
async def download_audio(
    track_id: int, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> Response:
    """The original file as uploaded (for downloads and exports)."""
    track = await playable_track(runtime, track_id, caller)
    extension = track.original_key.rsplit(".", 1)[-1]
    info = await runtime.storage.stat(track.original_key)
    content_type = (info.content_type if info else None) or "application/octet-stream"
    return await serve_object(
        request,
        runtime.storage,
        track.original_key,
        content_type=content_type,
        download_name=f"{track.artist_name} - {track.title}.{extension}",
    )


@router.get("/images/{track_id}", include_in_schema=False)
@router.get("/images/{track_id}/thumb", include_in_schema=False)
async def track_image(track_id: int, request: Request, runtime: RuntimeDep) -> Response:
    track = await service.get_track(runtime, track_id)
    thumb = request.url.path.endswith("/thumb")
    key = track.thumbnail_key if thumb else track.image_key
    if key is None:
        raise ApiError(404, "not_found", "this track has no artwork")
    content_type = "image/webp" if thumb or key.endswith(".webp") else "image/jpeg"
    return await serve_object(request, runtime.storage, key, content_type=content_type)
