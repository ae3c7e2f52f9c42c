"""The long-running processes: `plyr serve`, and `plyr worker` and `plyr ingest` to scale out.

`serve` runs the web app with the job worker and the ingest in the same process (in granian
or uvicorn: `http_servers`); `worker` and `ingest` run them alone, beside web processes
started with --no-worker / --no-ingest.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import TYPE_CHECKING, Annotated

import typer

from plyr.cli import http_servers
from plyr.cli.common import die, load_settings, preflight, upgrade_database
from plyr.cli.devnet import devnet_labeler_settings, devnet_settings, start_devnet
from plyr.cli.http_servers import HttpServer
from plyr.cli.public_media import relink_public_media
from plyr.config import Settings
from plyr.logs import configure_logging
from plyr.media.memory import limit_arenas

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from plyr.runtime import Runtime

log = logging.getLogger("plyr")


def serve(
    host: Annotated[str | None, typer.Option(help="address to bind (PLYR_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (PLYR_PORT)")] = None,
    migrate: Annotated[
        bool | None,
        typer.Option(help="apply migrations first (default: on for SQLite, off for PostgreSQL)"),
    ] = None,
    worker: Annotated[bool, typer.Option(help="run the job worker in this process")] = True,
    ingest: Annotated[
        bool, typer.Option(help="follow the event stream in this process (PLYR_INGEST_URL)")
    ] = True,
    devnet: Annotated[
        bool,
        typer.Option(help="also run the local ATProto network (PLC + PDS, demo accounts)"),
    ] = False,
    server: Annotated[
        HttpServer | None,
        typer.Option(help="HTTP server: granian or uvicorn (PLYR_HTTP_SERVER)"),
    ] = None,
) -> None:
    """Serve the web app, with the job worker, in one process."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    limit_arenas()  # resident memory stays flat under load (plyr.media.memory)
    network = None
    if devnet:
        network = start_devnet(settings)
        settings = settings.model_copy(update=devnet_settings(network))
        settings = settings.model_copy(update=devnet_labeler_settings(settings, network))
    if migrate if migrate is not None else settings.is_sqlite:
        upgrade_database(settings)
    asyncio.run(preflight(settings, require_migrated=True))
    settings.secret_key_bytes()  # create the key now, not in the middle of a request

    relink_public_media(settings)

    from plyr.web.app import create_app

    app = create_app(
        settings,
        run_worker=worker and settings.jobs_enabled,
        run_ingest=ingest and settings.ingest_enabled,
    )
    chosen = server or settings.http_server
    bind_host, bind_port = host or settings.host, port or settings.port
    log.info("plyr serving on http://%s:%d (%s)", bind_host, bind_port, chosen)
    try:
        http_servers.run(chosen, app, bind_host, bind_port)
    finally:
        if network is not None:
            network.stop()


def worker() -> None:
    """Run jobs only (scale-out: web processes with --no-worker, workers beside them)."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    limit_arenas()  # resident memory stays flat under load (plyr.media.memory)
    asyncio.run(preflight(settings, require_migrated=True))
    asyncio.run(_run_until_signal(settings, _worker_role))


async def _run_until_signal(
    settings: Settings, role: Callable[[Runtime, asyncio.Event], Awaitable[None]]
) -> None:
    """Run one role (worker, ingest) on its own Runtime until SIGINT or SIGTERM."""
    from plyr.runtime import Runtime

    runtime = Runtime.open(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await role(runtime, stop)
    finally:
        await runtime.close()


async def _worker_role(runtime: Runtime, stop: asyncio.Event) -> None:
    from plyr import handlers  # noqa: F401 - registers every job handler
    from plyr.jobs.worker import Worker, WorkerOptions
    from plyr.moderation import relabel, scanning
    from plyr.tracks import leftovers, waveforms

    alive = await leftovers.on_start(runtime)
    await scanning.backfill_on_start(runtime)
    await relabel.sensitive_backfill_on_start(runtime)
    await waveforms.backfill_on_start(runtime)
    worker = Worker(runtime.sessions, WorkerOptions.from_settings(runtime.settings))
    worker.services["storage"] = runtime.storage
    worker.services["runtime"] = runtime
    try:
        await worker.run(stop)
    finally:
        alive.release()


def ingest_command() -> None:
    """Follow the event stream only (scale-out: web with --no-ingest, one ingest beside it)."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    limit_arenas()  # resident memory stays flat under load (plyr.media.memory)
    if not settings.ingest_url:
        die("nothing to follow: set PLYR_INGEST_URL to a relay or PDS")
    asyncio.run(preflight(settings, require_migrated=True))

    from plyr import handlers  # noqa: F401 - registers every firehose indexer
    from plyr.ingest import run_ingest

    asyncio.run(_run_until_signal(settings, run_ingest))
