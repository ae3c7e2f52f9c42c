"""`plyr export --did DID --out FILE`: an operator writes one user's export (plyr.export) to a
file, the same zip `GET /api/me/export` streams, with a progress bar in the terminal."""

from __future__ import annotations

import os
from contextlib import aclosing
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from plyr.cli.common import die, run_service

if TYPE_CHECKING:
    from plyr.runtime import Runtime


async def _did_of(runtime: Runtime, who: str) -> str:
    """A DID as given, or the DID of a handle plyr knows."""
    from sqlalchemy import select

    from plyr.db.models import Artist
    from plyr.errors import ServiceError

    if who.startswith("did:"):
        return who
    async with runtime.sessions() as db:
        did = await db.scalar(select(Artist.did).where(Artist.handle == who.removeprefix("@")))
    if did is None:
        raise ServiceError(404, "not_found", f"plyr knows no user with the handle {who}")
    return str(did)


async def _write(runtime: Runtime, who: str, out: Path) -> dict[str, Any]:
    import anyio
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from plyr.export.archive import prepare

    archive = await prepare(runtime, await _did_of(runtime, who))
    partial = out.with_name(f".{out.name}.part")
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    written = 0
    try:
        # Private from the start: the zip holds everything the user has.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        async with await anyio.open_file(fd, "wb") as handle:
            with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
                task = bar.add_task(
                    f"exporting {archive.handle}", total=archive.progress.total_bytes
                )
                async with aclosing(archive.chunks()) as chunks:
                    async for chunk in chunks:
                        await handle.write(chunk)
                        written += len(chunk)
                        bar.update(task, completed=archive.progress.done_bytes)
        await anyio.Path(partial).rename(out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    records = archive.records.as_manifest()
    return {
        "bytes": written,
        "files": archive.progress.files,
        "records": records["source"],
        "note": records["note"],
        "missing": archive.contents.missing,
    }


def export(
    did: Annotated[str, typer.Option("--did", help="the user's DID (or their handle)")],
    out: Annotated[Path, typer.Option("--out", help="the zip file to write")],
    force: Annotated[bool, typer.Option(help="replace FILE if it exists")] = False,
) -> None:
    """Write everything a user put on plyr to a zip: originals as uploaded, artwork, their
    plyr records as their PDS holds them, and manifest.json."""
    if out.exists() and not force:
        die(f"{out} exists; choose another file or pass --force")
    if not out.parent.is_dir():
        die(f"{out.parent} is not a folder")
    report = run_service(lambda runtime: _write(runtime, did, out))
    typer.echo(f"wrote {out}: {report['bytes'] / 1e6:.1f} MB, {report['files']} files")
    typer.echo(f"records: from {'the pds' if report['records'] == 'pds' else report['records']}")
    if report["note"]:
        typer.secho(f"note: {report['note']}", err=True)
    for gone in report["missing"]:
        typer.secho(f"warning: {gone['file']} left out: {gone['reason']}", err=True)
