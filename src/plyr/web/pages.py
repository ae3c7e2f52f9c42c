"""Server-rendered pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from plyr.db.models import Artist, PublishState, Track
from plyr.web.auth import OptionalCaller
from plyr.web.deps import SessionDep
from plyr.web.templating import render

router = APIRouter(include_in_schema=False)

HOME_TRACKS = 50


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, session: SessionDep, caller: OptionalCaller) -> HTMLResponse:
    tracks = (
        await session.execute(
            select(Track)
            .where(Track.publish_state == PublishState.published)
            .order_by(Track.created_at.desc(), Track.id.desc())
            .limit(HOME_TRACKS)
        )
    ).scalars()
    artist_count = await session.scalar(select(func.count()).select_from(Artist))
    track_count = await session.scalar(
        select(func.count()).select_from(Track).where(Track.publish_state == PublishState.published)
    )
    return render(
        request,
        "home.html",
        {
            "tracks": list(tracks),
            "track_count": track_count or 0,
            "artist_count": artist_count or 0,
        },
    )
