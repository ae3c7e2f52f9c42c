"""plyr itself, served by uvicorn inside the test's event loop on a free loopback port, so a
real browser (and the PDS's redirects) can reach it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from plyr.config import Settings
from plyr.db import migrate
from plyr.runtime import Runtime
from plyr.web.app import create_app
from tests.support.ports import free_port
from tests.support.serving import uvicorn_serving


@dataclass(frozen=True)
class PlyrServer:
    url: str
    settings: Settings
    runtime: Runtime


@asynccontextmanager
async def running_plyr(
    settings: Settings, *, worker: bool = False, ingest: bool = False
) -> AsyncIterator[PlyrServer]:
    """Serve `settings` (its public_url is replaced by the port chosen here); `worker` also
    runs the job worker and `ingest` the firehose follower in the same process, as
    `plyr serve` does."""
    port = free_port()
    settings = settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})
    await migrate.upgrade_async(settings.effective_database_url)
    app = create_app(settings, run_worker=worker, run_ingest=ingest)
    async with uvicorn_serving(app, port, lifespan="on"):
        yield PlyrServer(settings.public_url, settings, app.state.runtime)
