"""Finding tracks: `plyrfm tracks`, `track ID` and `search QUERY`."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import TYPE_CHECKING, Annotated

import typer

from plyrfm.cli import state
from plyrfm.cli.output import Output, duration, joined, new_table, text
from plyrfm.cli.state import JsonFlag
from plyrfm.pages import page_url, track_page

if TYPE_CHECKING:
    from plyrfm.models import Track

PAGE_MAX = 100  # the API's largest page


def tracks(
    ctx: typer.Context,
    mine: Annotated[bool, typer.Option("--mine", help="Your own tracks, in every state.")] = False,
    artist: Annotated[
        str | None, typer.Option("--artist", "-a", help="An artist's handle or DID.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most N tracks.")] = 50,
    json_flag: JsonFlag = False,
) -> None:
    """Published tracks, newest first: everyone's, an artist's (--artist), or yours (--mine)."""
    if mine and artist:
        raise typer.BadParameter("give --mine or --artist, not both", param_hint="--mine")
    out = state.output(ctx, json_flag)
    page_size = min(limit, PAGE_MAX)
    with state.client(ctx) as plyr:
        found = (
            plyr.my_tracks(page_size=page_size)
            if mine
            else plyr.tracks(artist, page_size=page_size)
        )
        listed = list(islice(found, limit))
    if out.as_json:
        out.models(listed)
        return
    show_tracks(out, listed, with_state=mine, empty="no tracks")


def show_tracks(
    out: Output, listed: Iterable[Track], *, with_state: bool = False, empty: str = ""
) -> None:
    """A table of tracks (also `plyrfm likes`)."""
    columns = ["id", "title", "artist", "album", "length", "plays", "tags"]
    table = new_table(*columns, *(["state"] if with_state else []))
    rows = 0
    for track in listed:
        row = [
            str(track.id),
            text(track.title),
            text(track.artist),
            text(track.album),
            duration(track.duration),
            str(track.play_count),
            joined(track.tags),
        ]
        table.add_row(*row, *([text(track.publish_state)] if with_state else []))
        rows += 1
    if rows:
        out.table(table)
    elif empty:
        out.note(empty)


def track(
    ctx: typer.Context,
    track_id: Annotated[int, typer.Argument(metavar="ID", help="The track's id.")],
    json_flag: JsonFlag = False,
) -> None:
    """One track: title, artist, album, tags, state and its page."""
    out = state.output(ctx, json_flag)
    with state.client(ctx) as plyr:
        found = plyr.track(track_id)
    if out.as_json:
        out.model(found)
        return
    show_track(out, found, track_page(state.site(ctx), found.id))


def show_track(out: Output, found: Track, url: str) -> None:
    from rich.table import Table

    out.line(f"[bold]#{found.id}  {text(found.title)}[/bold]")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    rows: list[tuple[str, str]] = [
        ("artist", f"{text(found.artist)} ({text(found.artist_did)})"),
        ("album", text(found.album)),
        ("length", duration(found.duration)),
        ("format", text(found.file_type)),
        ("plays", str(found.play_count)),
        ("tags", joined(found.tags)),
        ("labels", joined(found.self_labels)),
        (
            "state",
            text(found.publish_state)
            + (f": {text(found.publish_error)}" if found.publish_error else ""),
        ),
        ("description", text(found.description)),
        ("page", text(url)),
        ("record", text(found.uri)),
    ]
    for name, value in rows:
        if value:
            grid.add_row(name, value)
    out.table(grid)


def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Words to look for; typos are forgiven.")],
    kinds: Annotated[
        list[str] | None,
        typer.Option("--type", help="Only these groups: tracks, artists, albums, playlists, tags."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=50, help="Hits per group.")
    ] = 10,
    json_flag: JsonFlag = False,
) -> None:
    """Search tracks, artists, albums, playlists and tags."""
    out = state.output(ctx, json_flag)
    with state.client(ctx) as plyr:
        results = plyr.search(query, types=kinds or None, limit=limit)
    if out.as_json:
        out.model(results)
        return
    table = new_table("type", "id", "title", "by", "page")
    site = state.site(ctx)
    for group in results.groups:
        for hit in group.hits:
            table.add_row(
                text(hit.type),
                text(hit.id),
                text(hit.title),
                text(hit.subtitle),
                text(page_url(site, hit.url)),
            )
    if results.total:
        out.table(table)
    else:
        out.note(f"nothing found for “{text(query)}”")
