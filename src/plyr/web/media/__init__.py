"""Media over HTTP: audio, downloads, artwork and covers (`routes.py`), all sent by one
function, `serve.serve_object` (ranges, conditional requests, proxy offload, S3 redirects),
built on the HTTP semantics in `validators.py` and the file response in `file_response.py`."""

from plyr.web.media.routes import router

__all__ = ["router"]
