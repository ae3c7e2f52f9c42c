"""The library (your liked tracks, playlists and albums), public liked pages, and tag pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plyr.artists import find_artist
from plyr.db.models import ListType
from plyr.errors import ServiceError
from plyr.social import likes, lists, tags
from plyr.tracks.catalogue import listed_artist
from plyr.web.pages.common import row_extras
from plyr.web.shared.caller import BrowserDep, OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.operators import viewer_of
from plyr.web.shared.templating import render

router = APIRouter(include_in_schema=False)

TAG_PAGE_TRACKS = 200


@router.get("/tags", response_class=HTMLResponse)
async def find_tag(q: Annotated[str, Query(max_length=50)] = "") -> Response:
    """The 404 page's little search: a tag name → its page."""
    name = q.strip().lstrip("#").strip()
    if not name:
        return RedirectResponse("/", status_code=303)
    return RedirectResponse(f"/tags/{name}", status_code=303)


@router.get("/tags/{name}", response_class=HTMLResponse)
async def tag_page(
    name: str, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> HTMLResponse:
    key = name.strip().casefold()
    tracks = await tags.tracks_tagged(runtime, key, limit=TAG_PAGE_TRACKS)
    return render(
        request,
        "tag.html",
        {
            "title": f"#{key}",
            "tag": key,
            "tracks": tracks,
            **await row_extras(runtime, tracks, caller),
        },
    )


LIBRARY_TABS = ("liked", "playlists", "albums")


@router.get("/library", response_class=HTMLResponse)
async def library(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    tab: Annotated[str, Query(max_length=16)] = "liked",
) -> HTMLResponse:
    liked = await likes.liked_tracks(runtime, caller.did)
    return render(
        request,
        "library.html",
        {
            "title": "library",
            "tab": tab if tab in LIBRARY_TABS else "liked",
            "tabs": LIBRARY_TABS,
            "tracks": liked,
            "playlists": await lists.lists_of(runtime, caller.did, ListType.playlist),
            "albums": await lists.lists_of(runtime, caller.did, ListType.album),
            "show_liked": await likes.liked_page_visible(runtime, caller.did),
            **await row_extras(runtime, liked, caller),
        },
    )


@router.get("/liked/{handle}", response_class=HTMLResponse)
async def liked_page(
    handle: str, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> HTMLResponse:
    viewer, admin = viewer_of(runtime, caller)
    artist = listed_artist(await find_artist(runtime, handle), viewer, admin=admin)
    own = caller is not None and caller.did == artist.did
    public = await likes.liked_page_visible(runtime, artist.did)
    if not own and not public:
        raise ServiceError(404, "not_found", f"@{artist.handle} keeps their liked tracks private")
    tracks = await likes.liked_tracks(runtime, artist.did)
    return render(
        request,
        "liked.html",
        {
            "title": f"liked by @{artist.handle}",
            "artist": artist,
            "tracks": tracks,
            "own": own,
            "public": public,
            **await row_extras(runtime, tracks, caller),
        },
    )
