"""The HTTP servers `plyr serve` can run the app in, each in this one process (the job
worker and the ingest run in the app's lifespan beside the requests): granian (the
default) and uvicorn (`PLYR_HTTP_SERVER=uvicorn`).

Why granian: it offers the ASGI `http.response.pathsend` extension, so a whole file (a
200, or the `Range: bytes=0-` every <audio> asks first) is read and sent by its Rust
side, off the event loop; bench/stream.py measures the two side by side on the whole app.
It runs embedded, on this process's event loop (uvloop, as uvicorn's), so the app object
built here (settings from the command line and devnet included) is the one served.

Both keep what `plyr serve` promised: a graceful stop on SIGTERM or SIGINT (lifespan
shutdown: the worker finishes its job) with exit status 0; X-Forwarded-For and
X-Forwarded-Proto trusted only from FORWARDED_ALLOW_IPS (default 127.0.0.1, as uvicorn
reads it); plyr's own access log (with the request id) and not the server's; no
`Server` header under uvicorn (granian always sends `server: granian`; nginx in front
drops it); websockets (the labeler's subscribeLabels), closed with 1012 on a stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from typing import Any, Literal

from starlette.types import ASGIApp, Receive, Scope, Send

HttpServer = Literal["granian", "uvicorn"]
TRUSTED_DEFAULT = "127.0.0.1"


def trusted_proxies() -> str:
    return os.environ.get("FORWARDED_ALLOW_IPS", TRUSTED_DEFAULT)


def run(server: HttpServer, app: ASGIApp, host: str, port: int) -> None:
    if server == "uvicorn":
        run_uvicorn(app, host, port)
        return
    try:  # the loop uvicorn picks too (it comes with uvicorn[standard])
        import uvloop
    except ImportError:
        asyncio.run(serve_granian(app, host, port))
    else:
        uvloop.run(serve_granian(app, host, port))


def run_uvicorn(app: ASGIApp, host: str, port: int) -> None:
    import uvicorn

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=trusted_proxies(),
        server_header=False,
    )
    # After a graceful shutdown uvicorn re-raises the SIGTERM it caught; under the default
    # handler that kills the process (exit 143). A no-op handler makes a clean stop exit 0.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    uvicorn.Server(config).run()


class _NotExperimental(logging.Filter):
    """granian's embedded mode says it is experimental on every start; plyr tests it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "experimental" not in record.getMessage()


def _granian_logging() -> dict[str, Any]:
    """granian's logger through plyr's handlers (granian would install its own)."""
    level = logging.getLevelName(logging.getLogger().level)
    return {"loggers": {"_granian": {"handlers": [], "propagate": True, "level": level}}}


class WebsocketsClosedOnStop:
    """What uvicorn does for websockets on a graceful stop and granian does not: close each
    one with 1012 (service restart) and end its handler. granian drains HTTP connections
    before the app's lifespan ends, but leaves websockets to be cancelled with the loop (the
    client sees no close frame; the server logs a traceback)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.open: dict[asyncio.Task[Any], Send] = {}
        self.stopping = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        if scope["type"] != "websocket" or task is None:
            await self.app(scope, receive, send)
            return
        self.open[task] = send
        try:
            await self.app(scope, receive, send)
        except asyncio.CancelledError:
            if not self.stopping:
                raise
            # The handler has ended (its own receive() would have held a close back).
            with contextlib.suppress(Exception):  # the client left first
                await asyncio.wait_for(send({"type": "websocket.close", "code": 1012}), 1)
        finally:
            self.open.pop(task, None)

    async def close_all(self) -> None:
        self.stopping = True
        handlers = list(self.open)
        for task in handlers:
            task.cancel()
        if handlers:
            await asyncio.wait(handlers, timeout=2)


def granian_app(app: ASGIApp) -> ASGIApp:
    """The app as granian runs it: X-Forwarded-For/-Proto read from trusted proxies only
    (uvicorn's `proxy_headers` does the same inside uvicorn)."""
    from granian.utils.proxies import wrap_asgi_with_proxy_headers

    wrapped: ASGIApp = wrap_asgi_with_proxy_headers(app, trusted_proxies())
    return wrapped


async def serve_granian(app: ASGIApp, host: str, port: int) -> None:
    """granian, embedded in this event loop, until SIGTERM or SIGINT."""
    from granian.constants import HTTPModes, Interfaces
    from granian.log import LogLevels
    from granian.server.embed import Server

    logging.getLogger("_granian").addFilter(_NotExperimental())
    level = logging.getLevelName(logging.getLogger().level).lower()
    websockets = WebsocketsClosedOnStop(app)
    server = Server(
        granian_app(websockets),
        address=host,
        port=port,
        interface=Interfaces.ASGI,  # with lifespan
        http=HTTPModes.http1,  # behind a proxy, or local; as uvicorn
        # uvicorn's backlog; granian also takes it as the most requests served at once.
        backlog=2048,
        websockets=True,
        log_level=LogLevels(level if level in LogLevels.__members__ else "info"),
        log_dictconfig=_granian_logging(),
        log_access=False,  # plyr logs each request itself, with its id
    )
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []

    async def stop() -> None:
        await websockets.close_all()
        # Then granian drains the HTTP connections and ends the lifespan.
        server.stop()  # type: ignore[no-untyped-call]

    def on_signal() -> None:
        if not stopping:
            stopping.append(loop.create_task(stop()))

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
    await server.serve()
