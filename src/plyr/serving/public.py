"""The fast path for public media: `GET`/`HEAD` of `/media/{key}` and `/audio/{track id}`
answered before routing when the public folder (`plyr.storage.public_folder`) links them.

The link is the permission: it exists only while the track is published and listed, and
the database's commits keep it so (`plyr.storage.public_sync`). So no query and no caller
(whose session lookup is two queries) are needed, only a `stat` or a `readlink`, and
the answer is the one every listener gets from the routes. Anything not linked (a private
track, an artwork of a list, a file not there) goes on to the routes, which check as
before; so does a request with an Authorization header (a bad token is a 401
everywhere). The bytes go out through `serve_object`: ranges, validators, proxy offload.

Measured with bench/stream.py: a route's query and its caller cost about 1 ms a request
on SQLite, many times the 256 KB range itself.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from plyr.errors import ServiceError
from plyr.serving.serve import serve_object
from plyr.storage import public_sync
from plyr.storage.content_types import content_type_for_key

MEDIA = "/media/"
AUDIO = "/audio/"
# What the request metrics name these answers (the routes' own templates).
_MEDIA_ROUTE = SimpleNamespace(path_format="/media/{key}")
_AUDIO_ROUTE = SimpleNamespace(path_format="/audio/{track_id}")


class PublicMediaMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            response = await public_answer(scope)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def public_answer(scope: Scope) -> Response | None:
    """The answer for a linked public object, or None to let the routes answer."""
    path: str = scope["path"]
    if path.startswith(MEDIA):
        key, route = path[len(MEDIA) :], _MEDIA_ROUTE
    elif path.startswith(AUDIO) and (digits := path[len(AUDIO) :]).isascii() and digits.isdigit():
        key, route = None, _AUDIO_ROUTE
    else:
        return None
    if any(name == b"authorization" for name, _ in scope["headers"]):
        return None  # a token is checked by the routes, public media or not (401 if bad)
    runtime: Any = getattr(scope["app"].state, "runtime", None)
    sync = public_sync.sync_for(runtime.engine) if runtime is not None else None
    if sync is None:
        return None
    folder = sync.folder
    if key is None:
        key = folder.track_stream(int(path[len(AUDIO) :]))
        if key is None:
            return None
    elif not folder.is_public(key):
        return None
    scope["route"] = route
    try:
        return await serve_object(
            Request(scope), runtime.storage, key, content_type=content_type_for_key(key)
        )
    except ServiceError:
        scope.pop("route", None)
        return None  # linked but gone from storage: the routes say so
