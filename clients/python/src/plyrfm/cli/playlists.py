"""`plyrfm playlist create|add|list|show`: playlists are records on your PDS too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from plyrfm.cli import state
from plyrfm.cli.output import Output, duration, new_table, text
from plyrfm.cli.state import JsonFlag
from plyrfm.pages import list_page

if TYPE_CHECKING:
    from plyrfm.models import ListDetail

playlist_app = typer.Typer(help="Make and look at playlists.", no_args_is_help=True)

ListId = Annotated[int, typer.Argument(metavar="LIST_ID", help="The playlist's id.")]


@playlist_app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The playlist's name.")],
    track_ids: Annotated[
        list[int] | None, typer.Argument(metavar="[TRACK_ID]...", help="Tracks to start with.")
    ] = None,
    json_flag: JsonFlag = False,
) -> None:
    """A new playlist, with tracks in it or empty."""
    out = state.output(ctx, json_flag)
    with state.client(ctx) as plyr:
        made = plyr.create_playlist(name, track_ids or ())
    _done(ctx, out, made, "created")


@playlist_app.command("add")
def add(
    ctx: typer.Context,
    list_id: ListId,
    track_id: Annotated[int, typer.Argument(metavar="TRACK_ID", help="The track to add.")],
    json_flag: JsonFlag = False,
) -> None:
    """Add a track to the end of one of your playlists."""
    out = state.output(ctx, json_flag)
    with state.client(ctx) as plyr:
        changed = plyr.add_to_list(list_id, track_id)
    _done(ctx, out, changed, f"added #{track_id} to")


def _done(ctx: typer.Context, out: Output, playlist: ListDetail, verb: str) -> None:
    if out.as_json:
        out.model(playlist)
        return
    count = len(playlist.entries)
    out.line(
        f"{verb} playlist #{playlist.id} “{text(playlist.name)}” "
        f"({count} track{'' if count == 1 else 's'})"
    )
    out.line(text(list_page(state.site(ctx), playlist.type, playlist.id)))


@playlist_app.command("list")
def list_playlists(
    ctx: typer.Context,
    owner: Annotated[
        str | None, typer.Option(help="Whose playlists (a handle or DID); yours by default.")
    ] = None,
    json_flag: JsonFlag = False,
) -> None:
    """Playlists, newest first."""
    out = state.output(ctx, json_flag)
    with state.client(ctx) as plyr:
        found = plyr.playlists(owner)
    if out.as_json:
        out.models(found)
        return
    table = new_table("id", "name", "tracks", "updated", "state")
    for summary in found:
        table.add_row(
            str(summary.id),
            text(summary.name),
            str(summary.item_count),
            text(summary.updated_at[:10]),
            text(summary.record_state),
        )
    if found:
        out.table(table)
    else:
        out.note("no playlists")


@playlist_app.command("show")
def show(ctx: typer.Context, list_id: ListId, json_flag: JsonFlag = False) -> None:
    """A playlist and its tracks in order."""
    out = state.output(ctx, json_flag)
    with state.client(ctx) as plyr:
        found = plyr.get_list(list_id)
    if out.as_json:
        out.model(found)
        return
    out.line(
        f"[bold]#{found.id}  {text(found.name)}[/bold]  ({text(found.type)}, {text(found.did)})"
    )
    table = new_table("#", "id", "title", "artist", "length")
    for number, entry in enumerate(found.entries, 1):
        song = entry.track
        if song is None:  # a record plyr does not index: its URI is all there is
            table.add_row(str(number), "", text(entry.subject_uri), "", "")
        else:
            table.add_row(
                str(number),
                str(song.id),
                text(song.title),
                text(song.artist),
                duration(song.duration),
            )
    if found.entries:
        out.table(table)
    else:
        out.note("no tracks yet")
