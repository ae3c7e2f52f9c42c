"""`plyr backup FOLDER` and `plyr restore FOLDER`: the embedded mode's database, keys and
media in a folder and back (plyr.backup); PostgreSQL gets pg_dump guidance instead."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from plyr.cli.common import die, load_settings

MIB = 1024 * 1024


def backup(
    folder: Annotated[Path, typer.Argument(help="a new or empty folder to write the backup to")],
    media: Annotated[
        bool, typer.Option(help="copy local media (--no-media: list and hash them only)")
    ] = True,
) -> None:
    """Back up the SQLite database (online, while plyr runs), keys and local media."""
    from plyr.backup import BackupError, create_backup

    settings = load_settings()
    try:
        report = create_backup(settings, folder, copy_media=media)
    except BackupError as exc:
        die(str(exc))
    typer.echo(f"database: {report.database_bytes / MIB:.1f} MiB, schema {report.schema or 'none'}")
    typer.echo(f"keys: {', '.join(report.keys) or 'none in the data folder'}")
    if report.storage == "s3":
        typer.echo(
            f"media: {report.media_objects} keys listed in manifest.json, not copied: they "
            f"live in the S3 bucket {settings.s3_bucket!r}; back it up with your S3 tools"
        )
    elif report.media_copied:
        typer.echo(f"media: {report.media_objects} objects, {report.media_bytes / MIB:.1f} MiB")
    else:
        typer.echo(f"media: {report.media_objects} objects listed and hashed, not copied")
    for key in report.missing:
        typer.secho(f"warning: the database names {key}, which storage does not have", err=True)
    typer.echo(f"backup written to {folder} (keep it private: it holds sessions and keys)")


def restore(
    folder: Annotated[Path, typer.Argument(help="a folder written by `plyr backup`")],
    force: Annotated[
        bool, typer.Option(help="replace an existing database and keys (stop plyr first)")
    ] = False,
) -> None:
    """Restore a backup: every file is checked against its manifest before anything changes."""
    from plyr.backup import BackupError, restore_backup

    settings = load_settings()
    try:
        report = restore_backup(settings, folder, force=force)
    except BackupError as exc:
        die(str(exc))
    typer.echo(f"database: {report.database} (schema {report.schema or 'none'})")
    typer.echo(f"keys: {', '.join(report.keys) or 'none'}")
    typer.echo(f"media: {report.media_objects} objects")
    for note in report.notes:
        typer.echo(note)
    typer.echo("restored; `plyr serve` brings an older schema up to date as it starts")
