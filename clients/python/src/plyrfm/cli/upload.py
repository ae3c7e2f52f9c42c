"""`plyrfm upload FILE`: send audio, follow its processing, and print the published track."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from plyrfm.cli import state
from plyrfm.cli.output import text
from plyrfm.cli.progress import UploadBar
from plyrfm.cli.state import JsonFlag
from plyrfm.pages import track_page


def upload(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The audio file.")],
    tags: Annotated[
        list[str] | None,
        typer.Option("--tag", "-t", metavar="TAG", help="A tag (repeat, or comma-separate)."),
    ] = None,
    title: Annotated[str | None, typer.Option(help="Title (else from the file's tags).")] = None,
    album: Annotated[str | None, typer.Option(help="Album name.")] = None,
    cover: Annotated[
        Path | None, typer.Option(metavar="IMG", help="Artwork (else embedded art, if any).")
    ] = None,
    description: Annotated[str | None, typer.Option(help="A few words about it.")] = None,
    features: Annotated[
        list[str] | None,
        typer.Option("--feature", metavar="HANDLE", help="A featured artist (repeat)."),
    ] = None,
    labels: Annotated[
        list[str] | None,
        typer.Option(
            "--label", metavar="LABEL", help="Content warning: sexual, porn, nudity, graphic-media."
        ),
    ] = None,
    json_flag: JsonFlag = False,
) -> None:
    """Upload a track and wait until it is published.

    A bar follows the bytes going up, then each phase of processing. Prints the track's id
    and page; with --json, the track. A missing or unreadable file is refused before
    anything is sent (exit 5)."""
    out = state.output(ctx, json_flag)
    with state.client(ctx) as plyr, UploadBar(out, file.name) as bar:
        published = plyr.upload(
            file,
            title=title,
            album=album,
            description=description,
            tags=_split(tags),
            features=_split(features),
            self_labels=_split(labels),
            cover=cover,
            on_progress=bar,
        )
    for warning in bar.warnings:
        out.note(f"warning: {text(warning)}")
    if out.as_json:
        out.model(published)
        return
    out.line(f"published #{published.id} “{text(published.title)}” by {text(published.artist)}")
    out.line(text(track_page(state.site(ctx), published.id)))


def _split(values: Iterable[str] | None) -> list[str]:
    """`-t a -t "b, c"` → [a, b, c]."""
    return [part.strip() for value in values or () for part in value.split(",") if part.strip()]
