"""The JSON API (`/api/*`, described at `/api/openapi.json`): one module per resource, each
a thin layer over the domain services. Errors have one shape (`web.shared.errors`); callers
are a session cookie (with CSRF on mutations) or a developer token (`web.shared.caller`)."""

from fastapi import APIRouter

from plyr.web.api import (
    account,
    admin,
    admin_tools,
    bluesky,
    comments,
    export,
    health,
    jams,
    likes,
    listening,
    lists,
    metrics,
    moderation,
    plays,
    profiles,
    queue,
    records,
    search,
    sharing,
    tags,
    tracks,
    uploads,
    waveforms,
)

router = APIRouter()
# Order matters only where paths overlap: `/api/tracks/top` and `/recently-liked`
# (listening) must come before `/api/tracks/{track_id}` (tracks).
for module in (
    health,
    metrics,
    admin,
    admin_tools,
    moderation,
    account,
    listening,
    uploads,
    tracks,
    plays,
    queue,
    jams,
    likes,
    comments,
    bluesky,
    lists,
    profiles,
    records,
    export,
    tags,
    search,
    sharing,
    waveforms,
):
    router.include_router(module.router)
