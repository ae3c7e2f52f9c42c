"""HEAD answered like GET without a body, as plain ASGI middleware.

FastAPI routes accept only the methods they declare, so a HEAD to a page or an API route
would get 405. Routes that answer HEAD themselves (static files, the media routes, which
describe an object without reading it) keep doing so: the request goes through as HEAD
first, and only when the app refuses it with 405 is it run again as a GET, whose status
and headers (content-length included) are sent and whose body is dropped. A path without
a GET route then answers that GET's 405 (with its `Allow`).

The retried request runs on a copy of the scope with `method: GET`; what routing adds to
the copy (`route`, `endpoint`, `path_params`…) is copied back, so middleware outside this
one still sees the real method, HEAD, and the route that answered.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        refused = False

        async def first_try(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and message["status"] == 405:
                refused = True  # no route here takes HEAD: drop this answer, try GET
            if not refused:
                await _send_without_body(send, message)

        await self.app(scope, receive, first_try)
        if not refused:
            return
        as_get: Scope = {**scope, "method": "GET"}

        async def as_head(message: Message) -> None:
            if message["type"] == "http.response.start":
                _copy_routing(as_get, scope)  # for middleware that labels at the start
            await _send_without_body(send, message)

        await self.app(as_get, receive, as_head)
        _copy_routing(as_get, scope)


async def _send_without_body(send: Send, message: Message) -> None:
    kind = message["type"]
    if kind == "http.response.start":
        await send(message)
    elif kind != "http.response.trailers" and not message.get("more_body", False):
        # The last of the body (or a pathsend/zerocopysend, which ends it): end it empty.
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _copy_routing(source: Scope, target: Scope) -> None:
    """What routing added to the GET's scope, onto the original (HEAD) scope."""
    for key, value in source.items():
        if key != "method":
            target[key] = value
