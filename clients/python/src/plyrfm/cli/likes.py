"""`plyrfm like ID`, `unlike ID` and `likes`: liking writes a record to your PDS."""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Annotated

import typer

from plyrfm.cli import state
from plyrfm.cli.output import Output
from plyrfm.cli.state import JsonFlag
from plyrfm.cli.tracks import PAGE_MAX, show_tracks

if TYPE_CHECKING:
    from plyrfm.models import LikeState

TrackId = Annotated[int, typer.Argument(metavar="ID", help="The track's id.")]


def like(ctx: typer.Context, track_id: TrackId, json_flag: JsonFlag = False) -> None:
    """Like a track."""
    out = state.output(ctx, json_flag)
    with state.client(ctx) as plyr:
        _show(out, plyr.like(track_id))


def unlike(ctx: typer.Context, track_id: TrackId, json_flag: JsonFlag = False) -> None:
    """Take a like back."""
    out = state.output(ctx, json_flag)
    with state.client(ctx) as plyr:
        _show(out, plyr.unlike(track_id))


def _show(out: Output, liked: LikeState) -> None:
    if out.as_json:
        out.model(liked)
        return
    verb = "liked" if liked.liked else "unliked"
    plural = "" if liked.likes == 1 else "s"
    out.line(f"{verb} #{liked.track_id} ({liked.likes} like{plural})")


def likes(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most N tracks.")] = 50,
    json_flag: JsonFlag = False,
) -> None:
    """The tracks you liked, newest like first."""
    out = state.output(ctx, json_flag)
    with state.client(ctx) as plyr:
        liked = list(islice(plyr.likes(page_size=min(limit, PAGE_MAX)), limit))
    if out.as_json:
        out.models(liked)
        return
    show_tracks(out, liked, empty="no likes yet")
