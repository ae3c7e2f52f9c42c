"""Media over HTTP: audio, downloads, artwork and covers (`routes.py`), all sent by one
function, `plyr.serving.serve_object` (ranges, conditional requests, proxy offload, S3
redirects; a layer below, so the Subsonic surface sends bytes the same way).
`moderation.py` serves operators the audio of the review page."""

from fastapi import APIRouter

from plyr.web.media import moderation, routes

router = APIRouter()
# Before `routes`: its `/media/{key:path}` would otherwise answer `/media/admin/…`.
router.include_router(moderation.router)
router.include_router(routes.router)

__all__ = ["router"]
