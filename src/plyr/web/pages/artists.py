"""The artist page: profile, bio, published tracks a screenful at a time (`?before=` for
older ones), albums, playlists and, when the artist shows them, their likes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from plyr.social import likes
from plyr.tracks.browsing import artist_page_read
from plyr.tracks.catalogue import published_tracks_page
from plyr.web.pages.common import row_extras
from plyr.web.shared.caller import OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.operators import viewer_of
from plyr.web.shared.page_cache import SharedPage
from plyr.web.shared.reads import reading
from plyr.web.shared.templating import render

router = APIRouter(include_in_schema=False)

ARTIST_PAGE_TRACKS = 50  # a screenful; older tracks are a `?before=` cursor away
ARTIST_PAGE_LIKES = 10


@router.get("/artists/{handle_or_did}", response_class=HTMLResponse)
async def artist_page(
    handle_or_did: str,
    request: Request,
    runtime: RuntimeDep,
    caller: OptionalCaller,
    _shared: SharedPage,
    before: Annotated[str | None, Query(max_length=48)] = None,
) -> HTMLResponse:
    """An artist's profile, published tracks (a screenful at a time, `?before=` for older
    ones), albums, playlists and (if shown) likes."""
    viewer, admin = viewer_of(runtime, caller)
    async with reading(runtime) as reads:  # one connection for every read below
        read = await artist_page_read(reads, handle_or_did, viewer, admin=admin)
        artist = read.artist
        tracks, older = await published_tracks_page(
            reads, artist.did, before=before, limit=ARTIST_PAGE_TRACKS
        )
        liked = (
            (await likes.liked_tracks(reads, artist.did))[:ARTIST_PAGE_LIKES]
            if read.shows_likes
            else []
        )
        extras = await row_extras(reads, [*tracks, *liked], caller)
    return render(
        request,
        "artist.html",
        {
            "title": artist.display_name or artist.handle,
            "artist": artist,
            "tracks": tracks,
            "track_count": read.track_count,
            "older": older,
            "paged": before is not None,
            "bio": read.bio,
            "albums": read.albums,
            "playlists": read.playlists,
            "liked_shown": read.shows_likes,
            "liked_tracks": liked,
            **extras,
        },
    )
