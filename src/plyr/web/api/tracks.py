"""Tracks over the JSON API: list them (everyone's, an artist's, your own in every state),
read one, edit its details, replace its artwork, delete it, retry a failed publish. Thin
over `plyr.tracks`."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from plyr.artists import find_artist
from plyr.media.artwork import process_artwork
from plyr.media.errors import UnsafeImage, UnsupportedImage
from plyr.media.sniff import sniff_image
from plyr.social.tags import tags_of
from plyr.storage.artwork import store_artwork
from plyr.tracks import catalogue, editing
from plyr.web.shared.caller import CallerDep, CsrfDep, OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import ApiError, error_responses
from plyr.web.shared.examples import with_examples
from plyr.web.shared.form_stream import IMAGE_FORM, received_image
from plyr.web.shared.limits import limit_writes
from plyr.web.shared.operators import viewer_of
from plyr.web.shared.params import PageCursor, PageLimit, PathId
from plyr.web.shared.views import TrackOut, TrackPage, track_out, track_page

router = APIRouter(tags=["tracks"])

PAGE = 50  # tracks per page unless `limit` says otherwise


@router.get(
    "/api/tracks",
    summary="list published tracks, newest first",
    responses=error_responses(
        401,
        404,
        422,
        451,
        described={404: "no such artist on plyr", 451: "an operator hid this artist's account"},
    ),
)
async def list_tracks(
    runtime: RuntimeDep,
    caller: OptionalCaller,
    artist: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=2048,
            description="a handle or DID: only this artist's tracks; everyone's when left out",
        ),
    ] = None,
    cursor: PageCursor = None,
    limit: PageLimit = PAGE,
) -> TrackPage:
    """Published tracks listeners may meet, newest first, a page at a time (follow
    `cursor`). Everyone's tracks as the home page lists them: tracks their artists labelled
    `sexual` or `porn` are left out unless you opted in (`show_warned_tracks`) or made
    them. One artist's (`artist`) as their page lists them, labelled ones included."""
    viewer, admin = viewer_of(runtime, caller)
    artist_did = None
    if artist is not None:
        found = await find_artist(runtime, artist)
        artist_did = catalogue.listed_artist(found, viewer, admin=admin).did
    opted_in = bool(caller and caller.preferences and caller.preferences.show_warned_tracks)
    tracks, following = await catalogue.listener_tracks_page(
        runtime, artist_did, viewer, opted_in=opted_in, before=cursor, limit=limit
    )
    return await track_page(runtime, tracks, following)


@router.get("/api/me/tracks", summary="list your own tracks", responses=error_responses(401, 422))
async def my_tracks(
    runtime: RuntimeDep, caller: CallerDep, cursor: PageCursor = None, limit: PageLimit = PAGE
) -> TrackPage:
    """All your tracks, newest first, whatever their state: `publish_state` processing,
    publishing, published or failed (`publish_error` says why), and those an operator took
    down (`taken_down`, `takedown_reason`). A page at a time (follow `cursor`)."""
    tracks, following = await catalogue.own_tracks_page(
        runtime, caller.did, before=cursor, limit=limit
    )
    return await track_page(runtime, tracks, following)


@router.get("/api/tracks/{track_id}", responses=error_responses(401, 404, 422, 451))
async def get_track(track_id: PathId, runtime: RuntimeDep, caller: OptionalCaller) -> TrackOut:
    """One track. A track an operator took down answers 451 with the reason, except to its
    artist and to the operators."""
    viewer, admin = viewer_of(runtime, caller)
    track = await catalogue.visible_track(runtime, track_id, viewer, admin=admin)
    return track_out(runtime, track, await tags_of(runtime, track_id))


class LyricsEdit(BaseModel):
    """The track's new lyrics, whole: a part left out or empty is removed."""

    model_config = with_examples(
        {"plain": "the tide comes in\nand goes out", "lang": "en"},
        {"synced": "[00:12.50]the tide comes in\n[00:17.00]and goes out"},
    )

    plain: str | None = Field(default=None, max_length=10_000)
    synced: str | None = Field(
        default=None, max_length=20_000, description="LRC: `[mm:ss.xx] words` lines"
    )
    lang: str | None = Field(default=None, max_length=64, description="BCP-47, e.g. en")


class TrackEdit(BaseModel):
    """The fields to change; those left out stay as they are."""

    model_config = with_examples(
        {"title": "harbour lights (dawn mix)", "tags": ["ambient", "field recording"]},
        {"album": None, "self_labels": []},
    )

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
    lyrics: LyricsEdit | None = Field(
        default=None, description="replaces the track's lyrics; {} removes them"
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


class DeleteAccepted(BaseModel):
    model_config = with_examples({"status": "deleting"})

    status: Literal["deleting"] = Field(
        description="gone from plyr now; its record and files follow by a job"
    )


class PublishAccepted(BaseModel):
    model_config = with_examples({"status": "publishing"})

    status: Literal["publishing"] = Field(
        description="the publish job runs again; `publish_state` of the track says how it went"
    )


@router.delete(
    "/api/tracks/{track_id}", status_code=202, responses=error_responses(401, 403, 404, 422)
)
async def delete_track(
    track_id: PathId, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> DeleteAccepted:
    """Delete a track you own: from plyr at once, from your PDS and storage by a job."""
    await editing.delete_track(runtime, track_id, caller.did, caller.session.id)
    return DeleteAccepted(status="deleting")


@router.post(
    "/api/tracks/{track_id}/publish",
    status_code=202,
    responses=error_responses(
        401, 403, 404, 409, 422, described={409: "the track is not waiting for a retry"}
    ),
)
async def retry_publish(
    track_id: PathId, runtime: RuntimeDep, caller: CallerDep, _csrf: CsrfDep
) -> PublishAccepted:
    """Try publishing a track again after it failed for good."""
    await editing.retry_publish(runtime, track_id, caller.did)
    return PublishAccepted(status="publishing")
