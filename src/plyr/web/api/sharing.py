"""oEmbed (https://oembed.com) for track pages: a rich embed of plyr's player."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from plyr.errors import ServiceError
from plyr.tracks.catalogue import playable_track
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import error_responses
from plyr.web.shared.examples import SITE, with_examples

router = APIRouter()

EMBED_HEIGHT = 152
_TRACK_PATH = re.compile(r"^/tracks/(\d+)/?$")


class OEmbedOut(BaseModel):
    """oEmbed's `rich` type (https://oembed.com, 2.3.4); the thumbnail fields only when the
    track has artwork."""

    model_config = with_examples(
        {
            "version": "1.0",
            "type": "rich",
            "provider_name": "plyr",
            "provider_url": SITE,
            "title": "harbour lights",
            "author_name": "alice",
            "width": 600,
            "height": 152,
            "html": f'<iframe src="{SITE}/embed/track/42" width="600" height="152" '
            'frameborder="0" allow="autoplay; encrypted-media" loading="lazy" '
            'title="harbour lights on plyr"></iframe>',
            "thumbnail_url": f"{SITE}/images/42/thumb",
            "thumbnail_width": 300,
            "thumbnail_height": 300,
        }
    )

    version: str
    type: str
    provider_name: str
    provider_url: str
    title: str
    author_name: str
    width: int
    height: int
    html: str = Field(description="an iframe of plyr's embeddable player")
    thumbnail_url: str | None = None
    thumbnail_width: int | None = None
    thumbnail_height: int | None = None


@router.get(
    "/oembed",
    tags=["sharing"],
    response_model_exclude_none=True,
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
) -> OEmbedOut:
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
    answer = OEmbedOut(
        version="1.0",
        type="rich",
        provider_name="plyr",
        provider_url=settings.public_url,
        title=track.title,
        author_name=track.artist_name,
        width=width,
        height=height,
        html=(
            f'<iframe src="{src}" width="{width}" height="{height}" frameborder="0" '
            f'allow="autoplay; encrypted-media" loading="lazy" '
            f'title="{_attr(track.title)} on plyr"></iframe>'
        ),
    )
    if track.thumbnail_key:
        answer.thumbnail_url = f"{settings.public_url}/images/{track.id}/thumb"
        answer.thumbnail_width = answer.thumbnail_height = 300
    return answer


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
