"""The root `plyr` command: which commands and command groups it has, and `main`.

Each command lives in a module of this package by what it is about. A new top-level command
is a function registered below with `app.command()`; a new group (`plyr <group> <command>`)
is a module with its own `typer.Typer`, added below with `app.add_typer`. `plyr --help`
lists the commands in the order they are registered here, then the groups.
"""

from __future__ import annotations

import sys

import typer

from plyr.cli.admin import admin_app
from plyr.cli.backfill import backfill as backfill_command
from plyr.cli.backup import backup, restore
from plyr.cli.check import check
from plyr.cli.db import db_app
from plyr.cli.devnet import devnet
from plyr.cli.export import export
from plyr.cli.labeler import labeler_app
from plyr.cli.lexicons import lexicons_app
from plyr.cli.moderation import moderation_app
from plyr.cli.processes import ingest_command, serve, worker
from plyr.cli.public_media import relink
from plyr.cli.waveforms import waveforms_app

app = typer.Typer(help="plyr: music streaming on the AT Protocol.", no_args_is_help=True)

app.command()(serve)
app.command()(devnet)
app.command()(worker)
app.command("ingest")(ingest_command)
app.command()(check)
app.command()(backup)
app.command()(restore)
app.command()(export)
app.command("backfill")(backfill_command)
app.command()(relink)

app.add_typer(db_app, name="db")
app.add_typer(moderation_app, name="moderation")
app.add_typer(admin_app, name="admin")
app.add_typer(labeler_app, name="labeler")
app.add_typer(lexicons_app, name="lexicons")
app.add_typer(waveforms_app, name="waveforms")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
