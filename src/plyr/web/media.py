"""`/media/{key}`: stored objects by key, for the URLs local storage hands out.

The bytes go out through `serve_object` (ranges, validators, proxy offload, S3 redirects).
Keys are content-addressed, so every answer is immutable.
"""

from __future__ import annotations

import mimetypes

from fastapi import APIRouter, Request, Response

from plyr.storage.base import validate_key
from plyr.web.deps import get_runtime
from plyr.web.errors import ApiError
from plyr.web.streaming import serve_object

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


@router.api_route("/media/{key:path}", methods=["GET", "HEAD"])
async def media(key: str, request: Request) -> Response:
    try:
        validate_key(key)
    except ValueError:
        raise ApiError(404, "not_found", "there is nothing at this address") from None
    # get_runtime called directly: a Depends() costs more than serving a cached range.
    storage = get_runtime(request).storage
    return await serve_object(request, storage, key, content_type=content_type_for_key(key))
