"""Tracks over the JSON API: read one, edit its details, replace its artwork, delete it,
retry a failed publish. Thin over `plyr.tracks`."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from plyr.media.artwork import process_artwork
from plyr.media.errors import UnsafeImage, UnsupportedImage
from plyr.media.sniff import sniff_image
from plyr.social.tags import tags_of
from plyr.storage.artwork import store_artwork
from plyr.tracks import catalogue, editing
from plyr.web.shared.caller import CallerDep, CsrfDep, OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import ApiError, error_responses
from plyr.web.shared.form_stream import IMAGE_FORM, received_image
from plyr.web.shared.limits import limit_writes
from plyr.web.shared.operators import viewer_of
from plyr.web.shared.params import PathId
from plyr.web.shared.views import TrackOut, track_out

router = APIRouter(tags=["tracks"])


@router.get("/api/tracks/{track_id}", responses=error_responses(401, 404, 422, 451))
async def get_track(track_id: PathId, runtime: RuntimeDep, caller: OptionalCaller) -> TrackOut:
    """One track. A track an operator took down answers 451 with the reason, except to its
    artist and to the operators."""
    viewer, admin = viewer_of(runtime, caller)
    track = await catalogue.visible_track(runtime, track_id, viewer, admin=admin)
    return track_out(runtime, track, await tags_of(runtime, track_id))


class TrackEdit(BaseModel):
    title: str | None = Field(default=None, max_length=256)
    album: str | None = Field(default=None, max_length=256)
    description: str | None = Field(default=None, max_length=5000)
    tags: list[str] | None = Field(default=None, max_length=10)
    features: list[str] | None = Field(default=None, max_length=10)
    self_labels: list[str] | None = Field(
        default=None,
        max_length=10,
        description="content warnings (replaces the track's): sexual, porn, nudity, "
        "graphic-media; [] removes them",
    )


@router.patch(
    "/api/tracks/{track_id}", responses=error_responses(400, 401, 403, 404, 409, 422, 429)
)
async def edit_track(
    track_id: PathId,
    edit: TrackEdit,
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    _csrf: CsrfDep,
) -> TrackOut:
    """Change the track's details; the record in your PDS is rewritten (same key)."""
    await limit_writes(runtime, request, caller.did)
    track = await editing.edit_track(
        runtime, track_id, caller.did, edit.model_dump(exclude_unset=True)
    )
    return track_out(runtime, track, await tags_of(runtime, track_id))


@router.post(
    "/api/tracks/{track_id}/artwork",
    responses=error_responses(400, 401, 403, 404, 409, 413, 415, 422),
    openapi_extra=IMAGE_FORM,
)
async def replace_artwork(
    track_id: PathId, request: Request, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> TrackOut:
    """New artwork (`image`, multipart) for a track you own."""
    await editing.editable_track(runtime, track_id, caller.did)  # before any bytes are kept
    async with received_image(request, runtime.settings) as (picture, work):
        try:
            await asyncio.to_thread(sniff_image, picture)
            artwork = await asyncio.to_thread(process_artwork, picture, work)
        except (UnsupportedImage, UnsafeImage) as exc:
            raise ApiError(415, "unsupported_image", str(exc)) from exc
        image_key, thumb_key = await store_artwork(runtime.storage, artwork)
    await editing.set_artwork(runtime, track_id, caller.did, image_key, thumb_key)
    track = await catalogue.get_track(runtime, track_id)
    return track_out(runtime, track, await tags_of(runtime, track_id))


@router.delete(
    "/api/tracks/{track_id}", status_code=202, responses=error_responses(401, 403, 404, 422)
)
async def delete_track(
    track_id: PathId, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> dict[str, str]:
    """Delete a track you own: from plyr at once, from your PDS and storage by a job."""
    await editing.delete_track(runtime, track_id, caller.did, caller.session.id)
    return {"status": "deleting"}


@router.post(
    "/api/tracks/{track_id}/publish",
    status_code=202,
    responses=error_responses(
        401, 403, 404, 409, 422, described={409: "the track is not waiting for a retry"}
    ),
)
async def retry_publish(
    track_id: PathId, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> dict[str, str]:
    """Try publishing a track again after it failed for good."""
    await editing.retry_publish(runtime, track_id, caller.did)
    return {"status": "publishing"}
