"""The home page: the catalogue in numbers, this week's most played tracks, and the latest
tracks less those carrying a tag the viewer hides (and those their artists labelled sexual
or porn, unless the viewer opted in: `plyr.tracks.labels`); and the form that hides or
shows a tag."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from plyr.db.models import Track
from plyr.errors import ServiceError
from plyr.listening import stats, top
from plyr.runtime import Runtime
from plyr.social import preferences
from plyr.social.tags import without_hidden
from plyr.tracks.catalogue import published_tracks_page
from plyr.tracks.labels import in_feeds
from plyr.web.pages.common import finish, hidden_tags_for, is_htmx, row_extras
from plyr.web.shared.caller import BrowserDep, Caller, CsrfDep, OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.page_cache import SharedPage
from plyr.web.shared.reads import reading
from plyr.web.shared.templating import render

router = APIRouter(include_in_schema=False)

HOME_TRACKS = 50
HOME_TOP_TRACKS = 5
MAX_HIDDEN_TAGS = 20


def spoken_duration(seconds: int) -> str:
    """`2 h 5 min`, `4 min`, `45 s`: the catalogue's length at a glance."""
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours:
        return f"{hours:,} h {minutes} min" if minutes else f"{hours:,} h"
    return f"{minutes} min" if minutes else f"{seconds} s"


async def home_page(
    request: Request, runtime: Runtime, caller: Caller | None, hidden: list[str] | None = None
) -> HTMLResponse:
    """The catalogue in numbers, this week's most played tracks, and the latest tracks,
    less those carrying a tag the viewer hides (`hidden`: theirs unless given)."""
    show_all = request.query_params.get("tags") == "all"
    before = request.query_params.get("before")
    # Both cached a few seconds per process, computed once at a time (their own sessions).
    catalogue = await stats.catalogue_stats(runtime)
    ranked = await top.cached_top_tracks(runtime, "week", HOME_TOP_TRACKS + 3)
    if hidden is None:
        hidden = await hidden_tags_for(runtime, caller)
    top_week = [r.track for r in ranked]
    viewer = caller.did if caller is not None else None
    opted_in = bool(caller and caller.preferences and caller.preferences.show_warned_tracks)
    async with reading(runtime) as reads:  # one connection for the reads below
        # Keyset pages: `?before=<cursor>` starts after the last track of the previous page.
        # Rows, not Track objects: they carry the same columns (what these calls read).
        rows, older = await published_tracks_page(reads, None, before=before, limit=HOME_TRACKS)
        tracks = in_feeds(cast(list[Track], rows), viewer, opted_in=opted_in)
        top_week = in_feeds(top_week, viewer, opted_in=opted_in)
        if not show_all and hidden:
            # One tag lookup for both lists.
            kept = {t.id for t in await without_hidden(reads, [*tracks, *top_week], hidden)}
            shown = [t for t in tracks if t.id in kept]
            top_week = [t for t in top_week if t.id in kept]
        else:
            shown = tracks
        top_week = top_week[:HOME_TOP_TRACKS]
        extras = await row_extras(reads, [*shown, *top_week], caller)
    week_plays = {r.track.id: r.plays for r in ranked}
    return render(
        request,
        "home.html",
        {
            "tracks": shown,
            "hidden_tags": hidden,
            "hidden_count": len(tracks) - len(shown),
            "show_all": show_all,
            "older": older,
            "paged": bool(before),
            "track_count": catalogue.tracks,
            "artist_count": catalogue.artists,
            "play_count": catalogue.plays,
            "catalogue_duration": spoken_duration(catalogue.duration_seconds),
            "top_week": top_week,
            "week_plays": week_plays,
            **extras,
        },
    )


@router.get("/", response_class=HTMLResponse)
async def home(
    request: Request, runtime: RuntimeDep, caller: OptionalCaller, _shared: SharedPage
) -> HTMLResponse:
    return await home_page(request, runtime, caller)


@router.post("/preferences/hidden-tags")
async def change_hidden_tags(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    tag: Annotated[str, Form(max_length=50)] = "",
    op: Annotated[str, Form(pattern="^(hide|show)$")] = "hide",
) -> Response:
    name = tag.strip().lstrip("#").strip().casefold()
    back = "/#tag-filter"
    if not name:
        return finish(request, "name a tag first", back, failed=True)
    hidden = await hidden_tags_for(runtime, caller, saved=True)
    if op == "hide" and name not in hidden:
        if len(hidden) >= MAX_HIDDEN_TAGS:
            return finish(request, f"hide at most {MAX_HIDDEN_TAGS} tags", back, failed=True)
        hidden.append(name)
    elif op == "show":
        hidden = [h for h in hidden if h != name]
    try:
        await preferences.update_preferences(runtime, caller.did, {"hidden_tags": hidden})
    except ServiceError as exc:
        return finish(request, exc.message, back, failed=True)
    message = f"hiding #{name}" if op == "hide" else f"showing #{name}"
    if is_htmx(request):
        # The home page again (its list depends on the filter): htmx swaps #main.
        partial = await home_page(request, runtime, caller, hidden)
        return finish(request, message, back, partial=partial)
    return finish(request, message, back)
