"""Sharing: the embeddable player page and the oEmbed endpoint (link previews are in the
page templates' head)."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from plyr.errors import ServiceError
from plyr.tracks import service
from plyr.web.deps import RuntimeDep
from plyr.web.templating import render
from plyr.web.tracks_api import playable_track, track_out

router = APIRouter()

EMBED_HEIGHT = 152
_TRACK_PATH = re.compile(r"^/tracks/(\d+)/?$")


@router.get("/embed/track/{track_id}", response_class=HTMLResponse, include_in_schema=False)
async def embed_track(track_id: int, request: Request, runtime: RuntimeDep) -> HTMLResponse:
    """A small player for other sites' iframes."""
    track = await playable_track(runtime, track_id, None)
    view = track_out(runtime, track, await service.tags_of(runtime, track_id))
    response = render(request, "embed_track.html", {"track": view})
    # Meant to be framed anywhere: allow every ancestor explicitly.
    response.headers["Content-Security-Policy"] = "frame-ancestors *"
    return response


@router.get("/oembed", tags=["sharing"])
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
