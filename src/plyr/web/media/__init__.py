"""Media over HTTP: audio, downloads, artwork and covers (`routes.py`), all sent by one
function, `serve.serve_object` (ranges, conditional requests, proxy offload, S3 redirects),
built on the HTTP semantics in `validators.py` and the file response in `file_response.py`.
`moderation.py` serves operators the audio of the review page."""

from fastapi import APIRouter

from plyr.web.media import moderation, routes

router = APIRouter()
# Before `routes`: its `/media/{key:path}` would otherwise answer `/media/admin/…`.
router.include_router(moderation.router)
router.include_router(routes.router)

__all__ = ["router"]
