"""`plyr relink`: the public media folder rebuilt from the database (`plyr serve` does it on
every start), for after a restore, a move of the storage folder, or a crash between a
takedown's commit and the removal of its links."""

from __future__ import annotations

import asyncio
import logging

import typer

from plyr.cli.common import load_settings
from plyr.config import Settings
from plyr.logs import configure_logging
from plyr.storage import public_sync

log = logging.getLogger("plyr")


def relink_public_media(settings: Settings) -> None:
    found = asyncio.run(public_sync.rebuild(settings))
    if found is not None:
        linked, removed = found
        log.info(
            "public media: %d tracks linked in %s, %d stale links removed",
            linked,
            settings.effective_media_public_dir,
            removed,
        )


def relink() -> None:
    """Rebuild the public media folder (links nginx and plyr serve public tracks from)."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    if public_sync.public_folder_for(settings) is None:
        typer.echo("no public media folder: S3 storage, or PLYR_MEDIA_PUBLIC_LINKS=false")
        return
    relink_public_media(settings)
    typer.echo(f"public media folder rebuilt: {settings.effective_media_public_dir}")
