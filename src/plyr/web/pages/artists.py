"""The artist page: profile, bio, published tracks a screenful at a time (`?before=` for
older ones), albums, playlists and, when the artist shows them, their likes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from plyr.artists import find_artist
from plyr.db.models import Artist, ListType
from plyr.runtime import Runtime
from plyr.social import likes, lists, profiles
from plyr.tracks.catalogue import listed_artist, published_track_count, published_tracks_page
from plyr.web.pages.common import row_extras
from plyr.web.shared.caller import OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.operators import viewer_of
from plyr.web.shared.templating import render

router = APIRouter(include_in_schema=False)

ARTIST_PAGE_TRACKS = 50  # a screenful; older tracks are a `?before=` cursor away


async def artist_social(runtime: Runtime, artist: Artist) -> dict[str, Any]:
    """What the artist page shows besides tracks."""
    shown = await likes.liked_page_visible(runtime, artist.did)
    return {
        "bio": await profiles.get_bio(runtime, artist.did),
        "albums": await lists.lists_of(runtime, artist.did, ListType.album),
        "playlists": await lists.lists_of(runtime, artist.did, ListType.playlist),
        "liked_shown": shown,
        "liked_tracks": (await likes.liked_tracks(runtime, artist.did))[:10] if shown else [],
    }


@router.get("/artists/{handle_or_did}", response_class=HTMLResponse)
async def artist_page(
    handle_or_did: str,
    request: Request,
    runtime: RuntimeDep,
    caller: OptionalCaller,
    before: Annotated[str | None, Query(max_length=48)] = None,
) -> HTMLResponse:
    """An artist's profile, published tracks (a screenful at a time, `?before=` for older
    ones), albums, playlists and (if shown) likes."""
    viewer, admin = viewer_of(runtime, caller)
    artist = listed_artist(await find_artist(runtime, handle_or_did), viewer, admin=admin)
    tracks, older = await published_tracks_page(
        runtime, artist.did, before=before, limit=ARTIST_PAGE_TRACKS
    )
    social = await artist_social(runtime, artist)
    return render(
        request,
        "artist.html",
        {
            "title": artist.display_name or artist.handle,
            "artist": artist,
            "tracks": tracks,
            "track_count": await published_track_count(runtime, artist.did),
            "older": older,
            "paged": before is not None,
            **social,
            **await row_extras(runtime, tracks + social["liked_tracks"], caller),
        },
    )
