"""The `plyr` command: serve, worker, db, check."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import threading
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from pydantic import ValidationError

from plyr.config import Settings, get_settings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from plyr.atproto.devnet import Network
    from plyr.runtime import Runtime
from plyr.logs import configure_logging

app = typer.Typer(help="plyr: music streaming on the AT Protocol.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)
app.add_typer(db_app, name="db")
moderation_app = typer.Typer(help="Moderation: sensitive artwork.", no_args_is_help=True)
app.add_typer(moderation_app, name="moderation")

log = logging.getLogger("plyr")


def _die(message: str) -> NoReturn:
    typer.secho(f"plyr: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(_describe_setting_error(err) for err in exc.errors())
        _die(f"invalid configuration: {problems}")


def _describe_setting_error(err: Any) -> str:
    message = str(err["msg"]).removeprefix("Value error, ")
    if message[:2].istitle():  # "Input should be…" reads better mid-sentence in lowercase
        message = message[:1].lower() + message[1:]
    if not err["loc"]:
        return message
    return f"PLYR_{'_'.join(str(part) for part in err['loc']).upper()}: {message}"


async def _preflight(settings: Settings, *, require_migrated: bool) -> None:
    from plyr.preflight import run_checks
    from plyr.runtime import Runtime

    runtime = Runtime.open(settings)
    try:
        results = await run_checks(runtime, require_migrated=require_migrated)
    finally:
        await runtime.close()
    for result in results:
        if not result.ok:
            _die(result.detail)


def _upgrade(settings: Settings) -> None:
    from plyr.db import migrate
    from plyr.preflight import check_data_dir

    data_dir = check_data_dir(settings)
    if not data_dir.ok:
        _die(data_dir.detail)
    try:
        migrate.upgrade(settings.effective_database_url)
    except Exception as exc:
        from plyr.preflight import _describe_db_error

        _die(_describe_db_error(settings.effective_database_url, exc))


@app.command()
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
) -> None:
    """Serve the web app, with the job worker, in one process."""
    import uvicorn

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    network = None
    if devnet:
        network = _start_devnet(settings)
        settings = settings.model_copy(update=_devnet_settings(network))
    if migrate if migrate is not None else settings.is_sqlite:
        _upgrade(settings)
    asyncio.run(_preflight(settings, require_migrated=True))
    settings.secret_key_bytes()  # create the key now, not in the middle of a request

    from plyr.web.app import create_app

    config = uvicorn.Config(
        create_app(
            settings,
            run_worker=worker and settings.jobs_enabled,
            run_ingest=ingest and settings.ingest_enabled,
        ),
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        proxy_headers=True,
        server_header=False,
    )
    log.info("plyr serving on http://%s:%d", config.host, config.port)
    # After a graceful shutdown uvicorn re-raises the SIGTERM it caught; under the default
    # handler that kills the process (exit 143). A no-op handler makes a clean stop exit 0.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    try:
        uvicorn.Server(config).run()
    finally:
        if network is not None:
            network.stop()


def _start_devnet(settings: Settings) -> Network:
    from plyr.atproto.devnet import DevnetError, start_network

    if settings.environment == "production":
        _die("the development network cannot run with PLYR_ENVIRONMENT=production")
    typer.echo("starting the local ATProto network (PLC + PDS)…", err=True)
    try:
        network = start_network(
            settings.data_dir / "devnet",
            plc_port=settings.devnet_plc_port,
            pds_port=settings.devnet_pds_port,
        )
    except DevnetError as exc:
        _die(str(exc))
    _print_devnet(network)
    return network


def _devnet_settings(network: Network) -> dict[str, Any]:
    return {
        "plc_url": network.plc_url,
        "atproto_dev_network": True,
        "atproto_dev_pds_url": network.pds_url,
        "ingest_url": network.pds_url,
    }


def _print_devnet(network: Network) -> None:
    typer.echo(f"  plc directory  {network.plc_url}", err=True)
    typer.echo(f"  pds            {network.pds_url}", err=True)
    for account in network.accounts.values():
        typer.echo(
            f"  sign in as     {account.handle:14} password {account.password:16} {account.did}",
            err=True,
        )


@app.command()
def devnet(
    plc_port: Annotated[int | None, typer.Option(help="PLC port (PLYR_DEVNET_PLC_PORT)")] = None,
    pds_port: Annotated[int | None, typer.Option(help="PDS port (PLYR_DEVNET_PDS_PORT)")] = None,
) -> None:
    """Run only the local ATProto network, with demo accounts, until Ctrl+C.

    Its data lives in <data>/devnet and survives restarts. Point plyr at it with the
    variables it prints (or use `plyr serve --devnet`, which does both).
    """
    from plyr.atproto.devnet import DevnetError, start_network

    settings = _settings()
    try:
        network = start_network(
            settings.data_dir / "devnet",
            plc_port=plc_port or settings.devnet_plc_port,
            pds_port=pds_port or settings.devnet_pds_port,
        )
    except DevnetError as exc:
        _die(str(exc))
    _print_devnet(network)
    typer.echo("environment for `plyr serve` in another shell:", err=True)
    for name, value in _devnet_settings(network).items():
        typer.echo(f"  export PLYR_{name.upper()}={str(value).lower() if value is True else value}")
    # Wait for Ctrl+C / SIGTERM, or for the network to die on its own (then say so).
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    try:
        while not stopped.wait(0.5):
            if network.process is not None and network.process.poll() is not None:
                _die(f"the local ATProto network stopped; see {network.log_path}")
    finally:
        network.stop()


@app.command()
def worker() -> None:
    """Run jobs only (scale-out: web processes with --no-worker, workers beside them)."""
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(_preflight(settings, require_migrated=True))
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
    from plyr.jobs.worker import Worker, WorkerOptions
    from plyr.listening import scrobble  # noqa: F401 - registers the scrobble handler
    from plyr.tracks import jobs as track_jobs  # noqa: F401 - registers the handlers

    worker = Worker(runtime.sessions, WorkerOptions.from_settings(runtime.settings))
    worker.services["storage"] = runtime.storage
    worker.services["runtime"] = runtime
    await worker.run(stop)


@app.command("ingest")
def ingest_command() -> None:
    """Follow the event stream only (scale-out: web with --no-ingest, one ingest beside it)."""
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    if not settings.ingest_url:
        _die("nothing to follow: set PLYR_INGEST_URL to a relay or PDS")
    asyncio.run(_preflight(settings, require_migrated=True))

    from plyr.ingest import run_ingest

    asyncio.run(_run_until_signal(settings, run_ingest))


@app.command()
def check() -> None:
    """Print the effective configuration (secrets masked) and check database, storage, data."""
    from plyr.preflight import run_checks
    from plyr.runtime import Runtime

    settings = _settings()
    typer.echo("configuration")
    for name, value in settings.masked().items():
        typer.echo(f"  {name:28} {value}")

    async def checks() -> bool:
        runtime = Runtime.open(settings)
        try:
            results = await run_checks(runtime)
        finally:
            await runtime.close()
        typer.echo("checks")
        for result in results:
            mark = (
                typer.style("ok  ", fg=typer.colors.GREEN)
                if result.ok
                else typer.style("FAIL", fg=typer.colors.RED)
            )
            typer.echo(f"  {mark} {result.name:12} {result.detail}")
        return all(result.ok for result in results)

    if not asyncio.run(checks()):
        raise typer.Exit(code=1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all pending migrations."""
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    _upgrade(settings)
    typer.echo("database is up to date")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="target revision, e.g. -1 or base")],
) -> None:
    """Undo migrations down to `revision` (data in dropped tables is lost)."""
    from alembic.util.exc import CommandError  # here: importing alembic costs ~0.7 s

    from plyr.db import migrate

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        migrate.downgrade(settings.effective_database_url, revision)
    except CommandError as exc:
        _die(f"cannot downgrade to {revision!r}: {exc}")
    except Exception as exc:
        from plyr.preflight import _describe_db_error

        _die(_describe_db_error(settings.effective_database_url, exc))
    typer.echo(f"database downgraded to {revision}")


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("-m", "--message", help="what the change is")],
    autogenerate: Annotated[bool, typer.Option(help="diff the models against the database")] = True,
) -> None:
    """Write a new migration (autogenerated from the models by default)."""
    from plyr.db import migrate

    settings = _settings()
    _upgrade(settings)
    migrate.revision(settings.effective_database_url, message, autogenerate=autogenerate)


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and the one the code expects."""
    from plyr.db import migrate
    from plyr.runtime import Runtime

    settings = _settings()

    async def read() -> str | None:
        runtime = Runtime.open(settings)
        try:
            return await migrate.current_revision(runtime.engine)
        finally:
            await runtime.close()

    try:
        current = asyncio.run(read())
    except Exception as exc:
        from plyr.preflight import _describe_db_error

        _die(_describe_db_error(settings.effective_database_url, exc))
    typer.echo(f"database: {current or 'empty'}  code: {migrate.head_revision()}")


def _moderate(action: Callable[[Runtime], Awaitable[Any]]) -> Any:
    """Run one moderation action against the configured database."""
    from plyr.errors import ServiceError
    from plyr.runtime import Runtime

    settings = _settings()

    async def run() -> Any:
        runtime = Runtime.open(settings)
        try:
            return await action(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(run())
    except ServiceError as exc:
        _die(exc.message)


@moderation_app.command("flag-image")
def flag_image(
    image: Annotated[str, typer.Argument(help="a stored key, plyr's /images/{id} URL, or a URL")],
    reason: Annotated[str | None, typer.Option(help="why, for the other operators")] = None,
) -> None:
    """Flag artwork as sensitive: blurred unless the viewer opted in; no link previews."""
    from plyr.social import sensitive

    row = _moderate(lambda runtime: sensitive.flag(runtime, image, reason, by="cli"))
    typer.echo(f"flagged {row.target}")


@moderation_app.command("unflag-image")
def unflag_image(
    image: Annotated[str, typer.Argument(help="the key or URL as it was flagged")],
) -> None:
    """Clear a sensitive-artwork flag."""
    from plyr.social import sensitive

    if not _moderate(lambda runtime: sensitive.unflag(runtime, image)):
        _die(f"{image} is not flagged")
    typer.echo(f"unflagged {image}")


@moderation_app.command("list-images")
def list_images() -> None:
    """Every flagged image, newest first."""
    from plyr.social import sensitive

    rows = _moderate(sensitive.list_flagged)
    if not rows:
        typer.echo("no flagged images")
    for row in rows:
        when = row.created_at.strftime("%Y-%m-%d %H:%M")
        typer.echo(f"{when}  {row.target}  {row.reason or ''}  ({row.flagged_by or '?'})")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
