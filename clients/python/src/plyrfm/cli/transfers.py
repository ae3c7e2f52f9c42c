"""Getting bytes out: `plyrfm download ID` (the original file) and `plyrfm export` (a zip of
everything of yours)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from plyrfm.cli import state
from plyrfm.cli.output import Output, size, text
from plyrfm.cli.progress import TransferBar
from plyrfm.cli.state import JsonFlag

# A str, not a Path: Path("music/") drops the slash that says "a folder, make it".
OutputPath = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        metavar="PATH",
        help="A file, or a folder to save it in (ending in /, made if missing; default: here).",
    ),
]


def download(
    ctx: typer.Context,
    track_id: Annotated[int, typer.Argument(metavar="ID", help="The track's id.")],
    output_path: OutputPath = None,
    json_flag: JsonFlag = False,
) -> None:
    """Download a track's original file."""
    out = state.output(ctx, json_flag)
    with state.client(ctx) as plyr, TransferBar(out, "download") as bar:
        saved = plyr.download(track_id, output_path, on_progress=bar)
    _saved(out, saved, track_id=track_id)


def export(
    ctx: typer.Context,
    output_path: OutputPath = None,
    json_flag: JsonFlag = False,
) -> None:
    """Everything you put on plyr (originals, artwork, your records) as one zip."""
    out = state.output(ctx, json_flag)
    with state.client(ctx) as plyr, TransferBar(out, "export") as bar:
        saved = plyr.export(output_path, on_progress=bar)
    _saved(out, saved)


def _saved(out: Output, saved: Path, *, track_id: int | None = None) -> None:
    written = saved.stat().st_size
    if out.as_json:
        found = {"path": str(saved.resolve()), "bytes": written}
        out.json({"track_id": track_id, **found} if track_id is not None else found)
        return
    out.line(f"saved {text(saved)} ({size(written)})")
