"""`plyr backfill`: rebuild the index from the network (plyr.backfill). This module only
renders: a progress bar in a terminal, plain lines otherwise (or on stderr with --json),
and the report at the end."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from plyr.cli.common import die, load_settings, preflight

if TYPE_CHECKING:
    from rich.progress import Progress as Bar
    from rich.progress import TaskID

    from plyr.backfill import BackfillOptions, BackfillReport, Progress
    from plyr.config import Settings

MIB = 1024 * 1024
PHASES = {
    "listing": "listing repos",
    "repos": "fetching repos",
    "links": "likes, comments, lists",
    "audio": "fetching audio",
}


class PlainLines:
    """Progress as lines: what went wrong as it happens, and each phase when it ends."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.ended: set[str] = set()

    def __call__(self, event: Progress) -> None:
        if event.note:
            print(event.note, file=self.stream, flush=True)
        finished = event.total is not None and event.done >= event.total
        if finished and event.phase not in self.ended and event.phase != "listing":
            self.ended.add(event.phase)
            line = f"{PHASES[event.phase]}: {event.done}/{event.total}"
            print(line, file=self.stream, flush=True)


class Bars:
    """Progress as rich bars, one per phase; notes printed above them."""

    def __init__(self, bar: Bar) -> None:
        self.bar = bar
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, event: Progress) -> None:
        if event.phase not in self.tasks:
            self.tasks[event.phase] = self.bar.add_task(PHASES[event.phase], total=event.total)
        task = self.tasks[event.phase]
        self.bar.update(task, completed=event.done, total=event.total)
        if event.note:
            self.bar.console.print(event.note, markup=False, highlight=False)


def print_report(report: BackfillReport) -> None:
    echo = typer.echo
    echo(
        f"repos: {report.repos_done} done, {report.repos_unchanged} unchanged, "
        f"{report.repos_inactive} inactive, {report.repos_failed} failed"
    )
    if report.listing_error:
        echo(f"listing stopped: {report.listing_error}")
    counts = ", ".join(f"{name} {count}" for name, count in sorted(report.indexed.items()))
    echo(f"records: {report.records_indexed}" + (f" ({counts})" if counts else ""))
    if report.removed:
        gone = ", ".join(f"{name} {count}" for name, count in sorted(report.removed.items()))
        echo(f"removed (deleted at their PDS): {gone}")
    echo(
        f"audio: {report.audio_ready} ready, {report.audio_unplayable} unplayable, "
        f"{report.audio_pending} still pending"
    )
    if report.repos:
        echo("skipped or failed repos:")
        for outcome in report.repos:
            echo(f"  {outcome.status:9} {outcome.did}  {outcome.reason or ''}".rstrip())
    if report.skipped:
        echo("skipped records:")
        for skipped in report.skipped:
            echo(f"  {skipped.uri}  {skipped.reason}")
    if report.skipped_more:
        echo(f"  … and {report.skipped_more} more (in backfill_repos.skipped per repository)")


def _run(
    settings: Settings,
    identifiers: list[str],
    source: str | None,
    options: BackfillOptions,
    as_json: bool,
) -> BackfillReport:
    from plyr import handlers  # noqa: F401 - registers every indexer
    from plyr.backfill import ProgressCallback, backfill
    from plyr.errors import ServiceError
    from plyr.logs import configure_logging
    from plyr.runtime import Runtime

    async def go(progress: ProgressCallback) -> BackfillReport:
        runtime = Runtime.open(settings)
        try:
            return await backfill(
                runtime,
                identifiers=identifiers,
                source=source,
                options=options,
                progress=progress,
            )
        finally:
            await runtime.close()

    # Indexers log every record they leave out at info; the report lists those anyway.
    level = settings.log_level if settings.log_level.upper() == "DEBUG" else "WARNING"
    try:
        if as_json or not sys.stdout.isatty():
            configure_logging(level, settings.log_format)
            return asyncio.run(go(PlainLines(sys.stderr if as_json else sys.stdout)))
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        columns = (
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, transient=False) as bar:
            configure_logging(level, settings.log_format)  # inside: lines go above the bars
            return asyncio.run(go(Bars(bar)))
    except ServiceError as exc:
        die(exc.message)


def backfill(
    accounts: Annotated[
        list[str] | None, typer.Argument(help="DIDs or handles whose repositories to index")
    ] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="every repository the --from service lists")
    ] = False,
    source: Annotated[
        str | None,
        typer.Option("--from", help="a PDS or relay URL (com.atproto.sync.listRepos)"),
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="repositories (and audio files) at a time")
    ] = 4,
    force: Annotated[
        bool, typer.Option(help="index repositories again even when their rev has not moved")
    ] = False,
    audio: Annotated[
        bool, typer.Option(help="fetch the tracks' audio (--no-audio: index records only)")
    ] = True,
    max_repo_mb: Annotated[int, typer.Option(min=1, help="largest repository fetched (MiB)")] = 256,
    timeout: Annotated[
        float, typer.Option(min=1.0, help="seconds a PDS gets to send a whole repository")
    ] = 120.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Rebuild plyr's index from the network: fetch each repository, verify it, index its
    plyr records (tracks, likes, comments, lists, profiles) and fetch the tracks' audio.
    Resumable: a repository unchanged since the last run is skipped (unless --force)."""
    from plyr.backfill import BackfillOptions, FetchLimits

    identifiers = list(accounts or [])
    if everything != (source is not None):
        die("--all and --from go together: plyr backfill --all --from https://pds.example")
    if everything and identifiers:
        die("name accounts or use --all --from URL, not both")
    if not everything and not identifiers:
        die("name accounts (DIDs or handles), or use --all --from URL")
    settings = load_settings()
    asyncio.run(preflight(settings, require_migrated=True))
    options = BackfillOptions(
        concurrency=concurrency,
        force=force,
        fetch_audio=audio,
        limits=FetchLimits(max_repo_bytes=max_repo_mb * MIB, timeout_seconds=timeout),
    )
    report = _run(settings, identifiers, source, options, as_json)
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        print_report(report)
    if not report.ok:
        raise typer.Exit(code=1)
