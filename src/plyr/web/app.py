"""The FastAPI app factory: every HTTP surface (the JSON API, media, pages) on one app, with
the error handlers, middleware, static files and API docs, and the worker and ingest tasks
when this process runs them. `plyr serve` and the tests build the app through create_app()."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from plyr import handlers as _handlers  # noqa: F401 - registers every job handler and indexer
from plyr import ingest
from plyr.config import Settings, get_settings
from plyr.jobs.worker import Worker, WorkerOptions
from plyr.moderation import relabel, scanning
from plyr.monitoring import Monitoring
from plyr.runtime import Runtime
from plyr.serving.public import PublicMediaMiddleware
from plyr.subsonic import router as subsonic_router
from plyr.tracks import leftovers, waveforms
from plyr.web import api, media, pages
from plyr.web.shared.errors import install_error_handlers
from plyr.web.shared.head import HeadAsGetMiddleware
from plyr.web.shared.middleware import RequestIdMiddleware
from plyr.web.shared.openapi import install_openapi, openapi_metadata
from plyr.web.shared.page_cache import PageCacheMiddleware
from plyr.web.shared.security import SecurityHeadersMiddleware
from plyr.web.shared.templating import STATIC_DIR, templates
from plyr.xrpc import router as xrpc_router

log = logging.getLogger(__name__)

# Front-end libraries installed by `npm ci` in frontend/ (pinned in its package-lock.json).
VENDOR_DIR = Path(__file__).resolve().parents[3] / "frontend" / "node_modules" / "htmx.org" / "dist"

# Swagger UI's files from the swagger-ui-py wheel (5.x, which reads OpenAPI 3.1), served by us.
SWAGGER_UI_DIR = Path(importlib.util.find_spec("swagger_ui").origin or "").parent / "static"  # type: ignore[union-attr]


def create_app(
    settings: Settings | None = None,
    *,
    run_worker: bool | None = None,
    run_ingest: bool | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    with_worker = settings.jobs_enabled if run_worker is None else run_worker
    with_ingest = settings.ingest_enabled if run_ingest is None else run_ingest

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.open(settings)
        app.state.runtime = runtime
        # What a killed process left (scratch files, stranded uploads) goes before work starts.
        alive = await leftovers.on_start(runtime)
        stop = asyncio.Event()
        worker_task: asyncio.Task[None] | None = None
        if with_worker:
            worker = Worker(runtime.sessions, WorkerOptions.from_settings(settings))
            worker.services["storage"] = runtime.storage
            worker.services["runtime"] = runtime
            await scanning.backfill_on_start(runtime)
            await relabel.sensitive_backfill_on_start(runtime)
            await waveforms.backfill_on_start(runtime)
            worker_task = asyncio.create_task(worker.run(stop), name="job-worker")
        ingest_task: asyncio.Task[None] | None = None
        if with_ingest and settings.ingest_url:
            ingest_task = asyncio.create_task(ingest.run_ingest(runtime, stop), name="ingest")
        try:
            yield
        finally:
            stop.set()
            if worker_task is not None:
                await worker_task
            if ingest_task is not None:
                await ingest_task
            alive.release()
            await runtime.close()

    app = FastAPI(
        **openapi_metadata(settings),  # info (the API's version, the policy), servers, tags
        lifespan=lifespan,
        docs_url=None,  # served below with local assets: no CDN at run time
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    install_openapi(app)  # security schemes and each operation's security
    app.state.settings = settings
    # Templates are compiled once; in production their files are not looked at again.
    templates.env.auto_reload = settings.environment != "production"
    app.state.monitoring = Monitoring()  # this app's own metrics registry (GET /metrics)
    install_error_handlers(app)
    # Innermost: HEAD runs as GET without a body where no route takes HEAD itself.
    app.add_middleware(HeadAsGetMiddleware)
    # Signed-out visitors' home, track and artist pages, kept a few seconds (ETag/304).
    app.add_middleware(PageCacheMiddleware)
    # Public tracks' media answered before routing, from the public folder's links.
    app.add_middleware(PublicMediaMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
    if VENDOR_DIR.is_dir():  # htmx from npm (frontend/); without it pages still work
        app.mount("/static/vendor", StaticFiles(directory=VENDOR_DIR), name="vendor")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount("/api/docs-assets", StaticFiles(directory=SWAGGER_UI_DIR), name="docs-assets")

    @app.get("/api/docs", include_in_schema=False)
    async def api_docs(request: Request) -> HTMLResponse:
        # A template and a script file, not FastAPI's helper (its inline script breaks CSP).
        context = {"openapi_url": app.openapi_url}
        return templates.TemplateResponse(request, "api_docs.html", context)

    # The addresses tools try first: the same document, and the docs page.
    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_alias() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    async def docs_alias() -> RedirectResponse:
        return RedirectResponse("/api/docs", status_code=308)

    # Each surface is one router over the same domain services; new protocol surfaces
    # (the labeler's XRPC, Subsonic) are included here beside them.
    app.include_router(api.router)
    app.include_router(media.router)
    app.include_router(pages.router)
    app.include_router(xrpc_router)
    app.include_router(subsonic_router)
    return app
