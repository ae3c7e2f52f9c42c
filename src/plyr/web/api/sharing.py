"""oEmbed (https://oembed.com) for track pages: a rich embed of plyr's player."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from plyr.errors import ServiceError
from plyr.tracks.catalogue import playable_track
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import error_responses

router = APIRouter()

EMBED_HEIGHT = 152
_TRACK_PATH = re.compile(r"^/tracks/(\d+)/?$")


@router.get(
    "/oembed",
    tags=["sharing"],
    responses=error_responses(
        404,
        422,
        451,
        501,
        described={
            404: "not a track page of this plyr, or no such track",
            501: "a format other than json (as oEmbed asks)",
        },
    ),
)
async def oembed(
    runtime: RuntimeDep,
    url: Annotated[str, Query(max_length=2048)],
    response_format: Annotated[str, Query(alias="format")] = "json",
    maxwidth: Annotated[int | None, Query(ge=100, le=4000)] = None,
    maxheight: Annotated[int | None, Query(ge=80, le=4000)] = None,
) -> JSONResponse:
    """oEmbed (https://oembed.com) for track pages: a rich embed of plyr's player."""
    if response_format != "json":
        raise ServiceError(501, "not_implemented", "only format=json is offered")
    settings = runtime.settings
    parts = urlsplit(url)
    ours = urlsplit(settings.public_url)
    match = _TRACK_PATH.match(parts.path)
    if (parts.scheme, parts.netloc) != (ours.scheme, ours.netloc) or match is None:
        raise ServiceError(404, "not_found", "that is not a plyr track page")
    track = await playable_track(runtime, int(match.group(1)), None)
    width = min(maxwidth or 600, 600)
    height = min(maxheight or EMBED_HEIGHT, EMBED_HEIGHT)
    src = f"{settings.public_url}/embed/track/{track.id}"
    body = {
        "version": "1.0",
        "type": "rich",
        "provider_name": "plyr",
        "provider_url": settings.public_url,
        "title": track.title,
        "author_name": track.artist_name,
        "width": width,
        "height": height,
        "html": (
            f'<iframe src="{src}" width="{width}" height="{height}" frameborder="0" '
            f'allow="autoplay; encrypted-media" loading="lazy" '
            f'title="{_attr(track.title)} on plyr"></iframe>'
        ),
    }
    if track.thumbnail_key:
        body |= {
            "thumbnail_url": f"{settings.public_url}/images/{track.id}/thumb",
            "thumbnail_width": 300,
            "thumbnail_height": 300,
        }
    return JSONResponse(body)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
