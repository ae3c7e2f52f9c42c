"""Server-rendered pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from plyr.db.models import Artist, PublishState, Track
from plyr.runtime import Runtime
from plyr.social.tags import without_hidden
from plyr.web.auth import Caller, OptionalCaller
from plyr.web.deps import RuntimeDep
from plyr.web.social_pages import hidden_tags_for, row_extras
from plyr.web.templating import render

router = APIRouter(include_in_schema=False)

HOME_TRACKS = 50


async def home_page(request: Request, runtime: Runtime, caller: Caller | None) -> HTMLResponse:
    """The latest tracks, less those carrying a tag the viewer hides."""
    show_all = request.query_params.get("tags") == "all"
    async with runtime.sessions() as session:
        tracks = list(
            (
                await session.execute(
                    select(Track)
                    .where(Track.publish_state == PublishState.published)
                    .order_by(Track.created_at.desc(), Track.id.desc())
                    .limit(HOME_TRACKS)
                )
            ).scalars()
        )
        artist_count = await session.scalar(select(func.count()).select_from(Artist))
        track_count = await session.scalar(
            select(func.count())
            .select_from(Track)
            .where(Track.publish_state == PublishState.published)
        )
    hidden = await hidden_tags_for(runtime, caller)
    shown = tracks if show_all else await without_hidden(runtime, tracks, hidden)
    return render(
        request,
        "home.html",
        {
            "tracks": shown,
            "hidden_tags": hidden,
            "hidden_count": len(tracks) - len(shown),
            "show_all": show_all,
            "track_count": track_count or 0,
            "artist_count": artist_count or 0,
            **await row_extras(runtime, shown, caller),
        },
    )


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, runtime: RuntimeDep, caller: OptionalCaller) -> HTMLResponse:
    return await home_page(request, runtime, caller)
