"""The media routes: a track's audio (`/audio/{id}`), its original (`/audio/{id}/download`),
its artwork (`/images/{id}`, `/thumb`), a list's cover (`/lists/{id}/cover`), and stored
objects by key (`/media/{key}`, the URLs local storage hands out).

Each looks up what may be played or shown through the domain services, then the bytes go out
through `serve_object` (ranges, validators, proxy offload, S3 redirects). Keys are
content-addressed, so every answer is immutable.

The OpenAPI describes the GETs of the addresses API answers hand out (`audio_url`,
`download_url`, `image_url`, `thumbnail_url`; `answers.py` holds what they answer). Their
HEADs (the same headers, no body) and `/media/{key}` are left out: that one's keys are
storage's layout, which no answer gives away.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from plyr.db.models import Track
from plyr.export.jobs import NAMESPACE as EXPORTS_NAMESPACE
from plyr.moderation.references import AUDIO_NAMESPACE
from plyr.runtime import Runtime
from plyr.serving.serve import serve_object
from plyr.social import lists
from plyr.storage.base import validate_key
from plyr.storage.content_types import content_type_for_key
from plyr.tracks.catalogue import Unavailable, check_stored_key, playable_track, visible_track
from plyr.tracks.waveforms import NAMESPACE as WAVEFORMS
from plyr.web.media.answers import (
    ARTWORK_TYPES,
    REQUEST_HEADERS,
    THUMBNAIL_TYPES,
    artwork_answers,
    audio_answers,
)
from plyr.web.shared.caller import Caller, OptionalCaller
from plyr.web.shared.deps import RuntimeDep, get_runtime
from plyr.web.shared.errors import ApiError, wants_json
from plyr.web.shared.operators import viewer_of
from plyr.web.shared.params import PathId

router = APIRouter(tags=["media"])
# What each documented route shares: bytes, not JSON (so no `application/json` 200), and
# the request headers `serve_object` honours.
BYTES: dict[str, Any] = {
    "response_class": Response,
    "openapi_extra": {"parameters": REQUEST_HEADERS},
}

# Reference recordings (copyright review) are the operators' alone: they hear them through
# /media/admin/references/{id}/audio, never by key here; exports go to their owner through
# /api/me/exports/{id}/download.
PRIVATE_PREFIXES = (f"{AUDIO_NAMESPACE}/", f"{EXPORTS_NAMESPACE}/", f"{WAVEFORMS}/")


@router.api_route("/media/{key:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def media(key: str, request: Request, caller: OptionalCaller) -> Response:
    """A stored object by key. The audio and artwork of tracks listeners may not meet
    (taken down, a hidden account's) answer 451 but to operators and their artist.

    With S3 and a public bucket (`PLYR_S3_PUBLIC_BASE_URL`) this only guards plyr's own
    address: the object's URL in the bucket stays reachable by whoever has it (keys are
    content hashes, so it must be known, not guessed). Refusing those needs a private
    bucket (presigned URLs) or deleting the object."""
    try:
        validate_key(key)
    except ValueError:
        raise ApiError(404, "not_found", "there is nothing at this address") from None
    if key.startswith(PRIVATE_PREFIXES):
        raise ApiError(404, "not_found", "there is nothing at this address")
    # get_runtime called directly: a Depends() costs more than serving a cached range.
    runtime = get_runtime(request)
    viewer, admin = viewer_of(runtime, caller)
    try:
        await check_stored_key(runtime, key, viewer, admin=admin)
    except Unavailable as exc:
        return _unavailable(request, exc)
    return await serve_object(request, runtime.storage, key, content_type=content_type_for_key(key))


async def _playable(runtime: Runtime, track_id: int, caller: Caller | None) -> Track:
    """The track's audio may go out: a taken-down track (or a hidden account's) is 451 with
    the reason for everyone, its artist included, but the operators, who review it."""
    viewer, admin = viewer_of(runtime, caller)
    return await playable_track(runtime, track_id, viewer, admin=admin)


def _unavailable(request: Request, exc: Unavailable) -> Response:
    """Audio answers a player, not a person: the status and one line saying why; a client
    asking for JSON (the SDK) gets the `ErrorOut` every other error of the route gives it."""
    if wants_json(request):
        raise exc
    return PlainTextResponse(f"{exc.message}\n", status_code=exc.status)


def _marked(response: Response, track: Track) -> Response:
    """An operator hearing a taken-down track is told so in a header."""
    if track.taken_down_at is not None:
        response.headers["X-Plyr-Taken-Down"] = "1"
    return response


@router.get(
    "/audio/{track_id}",
    summary="a track's audio, to play",
    responses=audio_answers("the audio a player is given"),
    **BYTES,
)
@router.head("/audio/{track_id}", include_in_schema=False)
async def stream_audio(
    track_id: PathId, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> Response:
    """The audio the player plays (`audio_url` of a track): the original when browsers
    play its format, else the stream plyr made of it (`Content-Type` says which). Ask for
    a part with `Range` (206) to seek; the `ETag` never changes, so `If-None-Match`
    answers 304. HEAD gives the same status and headers without the body.

    Tracks listeners may not meet answer 451 with the reason, but to the operators (their
    artist cannot play them either); a track still processing is its artist's alone (404
    to others); one whose audio is not there yet is 409. With S3 storage the answer is a
    307 to the file's own address."""
    try:
        track = await _playable(runtime, track_id, caller)
    except Unavailable as exc:
        return _unavailable(request, exc)
    key = track.stream_key or track.original_key
    content_type = track.stream_content_type or "application/octet-stream"
    response = await serve_object(request, runtime.storage, key, content_type=content_type)
    return _marked(response, track)


@router.get(
    "/audio/{track_id}/download",
    summary="a track's original file, to keep",
    responses=audio_answers("the original file", download=True),
    **BYTES,
)
@router.head("/audio/{track_id}/download", include_in_schema=False)
async def download_audio(
    track_id: PathId, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> Response:
    """The file as it was uploaded (`download_url` of a track), as a download:
    `Content-Disposition` names it after the artist and title with the original's
    extension. Ranges, validators, HEAD and the refusals are those of `/audio/{track_id}`."""
    try:
        track = await _playable(runtime, track_id, caller)
    except Unavailable as exc:
        return _unavailable(request, exc)
    extension = track.original_key.rsplit(".", 1)[-1]
    info = await runtime.storage.stat(track.original_key)
    content_type = (info.content_type if info else None) or "application/octet-stream"
    response = await serve_object(
        request,
        runtime.storage,
        track.original_key,
        content_type=content_type,
        download_name=f"{track.artist_name} - {track.title}.{extension}",
    )
    return _marked(response, track)


NO_ARTWORK = "this track has no artwork"
NO_COVER = "this list has no cover"
TRACK_404 = "no such track, or it has no artwork"
LIST_404 = "no such list (or a liked list its owner keeps private), or it has no cover"
LIST_451 = "an operator hid the list's owner (`message` says why)"


@router.get(
    "/images/{track_id}",
    summary="a track's artwork",
    responses=artwork_answers("the artwork", ARTWORK_TYPES, TRACK_404),
    **BYTES,
)
async def track_image(
    track_id: PathId, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> Response:
    """The track's artwork (`image_url` of a track): the uploaded picture as a JPEG of at
    most 1500 px, without its metadata. A track listeners may not meet answers 451, but to
    its artist and the operators."""
    viewer, admin = viewer_of(runtime, caller)
    track = await visible_track(runtime, track_id, viewer, admin=admin)
    return await _artwork(request, runtime, track.image_key, NO_ARTWORK)


@router.get(
    "/images/{track_id}/thumb",
    summary="a track's artwork, small",
    responses=artwork_answers("the thumbnail", THUMBNAIL_TYPES, TRACK_404),
    **BYTES,
)
async def track_thumbnail(
    track_id: PathId, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> Response:
    """The artwork as a 300x300 WebP (`thumbnail_url` of a track), for lists of tracks.
    Refused as `/images/{track_id}` is."""
    viewer, admin = viewer_of(runtime, caller)
    track = await visible_track(runtime, track_id, viewer, admin=admin)
    return await _artwork(request, runtime, track.thumbnail_key, NO_ARTWORK, thumb=True)


@router.get(
    "/lists/{list_id}/cover",
    summary="an album's or playlist's cover",
    responses=artwork_answers("the cover", ARTWORK_TYPES, LIST_404, hidden=LIST_451),
    **BYTES,
)
async def list_cover(
    list_id: PathId, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> Response:
    """The list's cover (`image_url` of a list), a JPEG of at most 1500 px. 451 when an
    operator hid the list's owner; 404 for a liked list kept private."""
    viewer, admin = viewer_of(runtime, caller)
    row = await lists.visible_list(runtime, list_id, viewer, admin=admin)
    return await _artwork(request, runtime, row.image_key, NO_COVER)


@router.get(
    "/lists/{list_id}/cover/thumb",
    summary="an album's or playlist's cover, small",
    responses=artwork_answers("the thumbnail", THUMBNAIL_TYPES, LIST_404, hidden=LIST_451),
    **BYTES,
)
async def list_cover_thumbnail(
    list_id: PathId, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> Response:
    """The cover as a 300x300 WebP (`thumbnail_url` of a list). Refused as the cover is."""
    viewer, admin = viewer_of(runtime, caller)
    row = await lists.visible_list(runtime, list_id, viewer, admin=admin)
    return await _artwork(request, runtime, row.thumbnail_key, NO_COVER, thumb=True)


async def _artwork(
    request: Request, runtime: Runtime, key: str | None, missing: str, *, thumb: bool = False
) -> Response:
    """The artwork or its thumbnail; thumbnails are WebP, artwork JPEG unless stored WebP."""
    if key is None:
        raise ApiError(404, "not_found", missing)
    content_type = "image/webp" if thumb or key.endswith(".webp") else "image/jpeg"
    return await serve_object(request, runtime.storage, key, content_type=content_type)
