"""The media routes: a track's audio (`/audio/{id}`), its original (`/audio/{id}/download`),
its artwork (`/images/{id}`, `/thumb`), a list's cover (`/lists/{id}/cover`), and stored
objects by key (`/media/{key}`, the URLs local storage hands out).

Each looks up what may be played or shown through the domain services, then the bytes go out
through `serve_object` (ranges, validators, proxy offload, S3 redirects). Keys are
content-addressed, so every answer is immutable.
"""

from __future__ import annotations

import mimetypes

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from plyr.db.models import Track
from plyr.export.jobs import NAMESPACE as EXPORTS_NAMESPACE
from plyr.moderation.references import AUDIO_NAMESPACE
from plyr.runtime import Runtime
from plyr.social import lists
from plyr.storage.base import validate_key
from plyr.tracks.catalogue import Unavailable, check_stored_key, playable_track, visible_track
from plyr.web.media.serve import serve_object
from plyr.web.shared.caller import Caller, OptionalCaller
from plyr.web.shared.deps import RuntimeDep, get_runtime
from plyr.web.shared.errors import ApiError
from plyr.web.shared.operators import viewer_of
from plyr.web.shared.params import PathId

router = APIRouter(include_in_schema=False)

# What browsers expect per extension; mimetypes' answers differ between systems.
CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "mp4": "audio/mp4",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "opus": "audio/ogg",
    "wav": "audio/wav",
    "aif": "audio/aiff",
    "aiff": "audio/aiff",
    "webm": "audio/webm",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "avif": "image/avif",
}


def content_type_for_key(key: str) -> str:
    extension = key.rpartition("/")[2].rpartition(".")[2].lower()
    known = CONTENT_TYPES.get(extension)
    if known:
        return known
    guessed, _ = mimetypes.guess_type(key)
    return guessed or "application/octet-stream"


# Reference recordings (copyright review) are the operators' alone: they hear them through
# /media/admin/references/{id}/audio, never by key here; exports go to their owner through
# /api/me/exports/{id}/download.
PRIVATE_PREFIXES = (f"{AUDIO_NAMESPACE}/", f"{EXPORTS_NAMESPACE}/")


@router.api_route("/media/{key:path}", methods=["GET", "HEAD"])
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
        return _unavailable(exc)
    return await serve_object(request, runtime.storage, key, content_type=content_type_for_key(key))


async def _playable(runtime: Runtime, track_id: int, caller: Caller | None) -> Track:
    """The track's audio may go out: a taken-down track (or a hidden account's) is 451 with
    the reason for everyone, its artist included, but the operators, who review it."""
    viewer, admin = viewer_of(runtime, caller)
    return await playable_track(runtime, track_id, viewer, admin=admin)


def _unavailable(exc: Unavailable) -> Response:
    """Audio answers a player, not a person: the status and one line saying why."""
    return PlainTextResponse(f"{exc.message}\n", status_code=exc.status)


def _marked(response: Response, track: Track) -> Response:
    """An operator hearing a taken-down track is told so in a header."""
    if track.taken_down_at is not None:
        response.headers["X-Plyr-Taken-Down"] = "1"
    return response


@router.get("/audio/{track_id}")
@router.head("/audio/{track_id}")
async def stream_audio(
    track_id: PathId, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> Response:
    try:
        track = await _playable(runtime, track_id, caller)
    except Unavailable as exc:
        return _unavailable(exc)
    key = track.stream_key or track.original_key
    content_type = track.stream_content_type or "application/octet-stream"
    response = await serve_object(request, runtime.storage, key, content_type=content_type)
    return _marked(response, track)


@router.get("/audio/{track_id}/download")
@router.head("/audio/{track_id}/download")
async def download_audio(
    track_id: PathId, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> Response:
    """The original file as uploaded (for downloads and exports)."""
    try:
        track = await _playable(runtime, track_id, caller)
    except Unavailable as exc:
        return _unavailable(exc)
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


@router.get("/images/{track_id}")
@router.get("/images/{track_id}/thumb")
async def track_image(
    track_id: PathId, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> Response:
    viewer, admin = viewer_of(runtime, caller)
    track = await visible_track(runtime, track_id, viewer, admin=admin)
    return await _artwork(
        request, runtime, track.image_key, track.thumbnail_key, "this track has no artwork"
    )


@router.get("/lists/{list_id}/cover")
@router.get("/lists/{list_id}/cover/thumb")
async def list_cover(
    list_id: PathId, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> Response:
    """451 when an operator hid the list's owner (404 for a liked list kept private)."""
    viewer, admin = viewer_of(runtime, caller)
    row = await lists.visible_list(runtime, list_id, viewer, admin=admin)
    return await _artwork(
        request, runtime, row.image_key, row.thumbnail_key, "this list has no cover"
    )


async def _artwork(
    request: Request,
    runtime: Runtime,
    image_key: str | None,
    thumbnail_key: str | None,
    missing: str,
) -> Response:
    """The artwork, or its WebP thumbnail when the path ends in `/thumb`."""
    thumb = request.url.path.endswith("/thumb")
    key = thumbnail_key if thumb else image_key
    if key is None:
        raise ApiError(404, "not_found", missing)
    content_type = "image/webp" if thumb or key.endswith(".webp") else "image/jpeg"
    return await serve_object(request, runtime.storage, key, content_type=content_type)
