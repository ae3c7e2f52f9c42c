"""Media over HTTP: audio, downloads, artwork and covers (`routes.py`), all sent by one
function, `plyr.serving.serve_object` (ranges, conditional requests, proxy offload, S3
redirects; a layer below, so the Subsonic surface sends bytes the same way).
`moderation.py` serves operators the audio of the review page; `tag_effects.py` the
images of tag effects from the operator's folder."""

from fastapi import APIRouter

from plyr.web.media import moderation, routes, tag_effects

router = APIRouter()
# Before `routes`: its `/media/{key:path}` would otherwise answer `/media/admin/…`.
router.include_router(moderation.router)
router.include_router(routes.router)
router.include_router(tag_effects.router)

__all__ = ["router"]
