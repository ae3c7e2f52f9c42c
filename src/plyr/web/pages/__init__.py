"""Server-rendered pages (Jinja2 + htmx) and the plain forms they post. Every page works
without JavaScript. Handlers call the same domain services as the JSON API and never the
API itself; what several pages share is in `common.py` and `web.shared`."""

from fastapi import APIRouter

from plyr.web.pages import (
    artists,
    bluesky,
    developers,
    home,
    jams,
    lexicons,
    library,
    lists,
    moderation,
    playlists,
    portal,
    search,
    settings,
    sharing,
    signin,
    track_social,
    tracks,
    upload,
)

router = APIRouter(include_in_schema=False)
# Routing tries routes in order (a few microseconds each): the most visited pages first.
for module in (
    home,
    tracks,
    artists,
    signin,
    lexicons,
    developers,
    settings,
    portal,
    moderation,
    search,
    sharing,
    track_social,
    bluesky,
    playlists,
    lists,
    library,
    upload,
    jams,
):
    router.include_router(module.router)
