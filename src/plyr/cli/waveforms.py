"""`plyr waveforms …`: the players' waveforms of tracks (`plyr.tracks.waveforms`)."""

from __future__ import annotations

import typer

from plyr.cli.common import run_service

waveforms_app = typer.Typer(help="Waveforms: the peaks players draw.", no_args_is_help=True)


@waveforms_app.command("backfill")
def backfill() -> None:
    """Enqueue a `track.waveform` job for every ready track without a waveform (a worker
    computes them; a track's job waits once however often this runs)."""
    from plyr.tracks import waveforms

    count = run_service(waveforms.enqueue_backfill)
    typer.echo(f"{count} track{'s' if count != 1 else ''} without a waveform: enqueued")
