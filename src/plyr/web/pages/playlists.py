"""Adding to playlists from any track row or track page: the menu's data (JavaScript builds
the menu), the page that stands in for it without JavaScript, adding, and a new playlist."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from plyr.db.models import ListType
from plyr.errors import ServiceError
from plyr.social import lists
from plyr.tracks.catalogue import get_track, playable_track
from plyr.web.pages.common import finish, safe_back
from plyr.web.shared.caller import BrowserDep, CsrfDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.limits import limit_writes
from plyr.web.shared.params import FormId, OptionalFormId, PathId
from plyr.web.shared.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/library/playlist-menu")
async def playlist_menu(runtime: RuntimeDep, caller: BrowserDep) -> JSONResponse:
    """The viewer's playlists for the "add to playlist" menu (JavaScript builds it)."""
    found = await lists.lists_of(runtime, caller.did, ListType.playlist)
    return JSONResponse(
        {"playlists": [{"id": row.id, "name": row.name, "count": count} for row, count in found]},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/tracks/{track_id}/add", response_class=HTMLResponse)
async def add_to_playlist_page(
    track_id: PathId,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    back: Annotated[str, Query(max_length=512)] = "",
) -> HTMLResponse:
    """Without JavaScript the menu is this page: your playlists and a new one."""
    track = await playable_track(runtime, track_id, caller.did)
    found = await lists.lists_of(runtime, caller.did, ListType.playlist)
    return render(
        request,
        "add_to_playlist.html",
        {
            "title": "add to playlist",
            "track": track,
            "playlists": found,
            "back": safe_back(back, f"/tracks/{track_id}"),
        },
    )


@router.post("/playlists/{list_id}/add")
async def add_to_playlist(
    list_id: PathId,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    track_id: FormId,
    back: Annotated[str, Form(max_length=512)] = "",
) -> Response:
    back_to = safe_back(back, f"/tracks/{track_id}")
    try:
        await limit_writes(runtime, request, caller.did)
        music_list = await lists.get_list(runtime, list_id)
        if music_list.list_type != ListType.playlist:
            raise ServiceError(422, "invalid_type", "that is not a playlist")
        track = await get_track(runtime, track_id)
        await lists.add_track(runtime, list_id, caller.did, track_id, caller.session.id)
    except ServiceError as exc:
        return finish(request, exc.message, back_to, failed=True)
    return finish(request, f"added “{track.title}” to {music_list.name}", back_to)


@router.post("/playlists/new")
async def new_playlist(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    name: Annotated[str, Form(max_length=1000)] = "",
    track_id: OptionalFormId = None,
    back: Annotated[str, Form(max_length=512)] = "",
) -> Response:
    back_to = safe_back(back, "/library?tab=playlists")
    try:
        await limit_writes(runtime, request, caller.did)
        row = await lists.create_list(
            runtime,
            caller.did,
            ListType.playlist,
            name,
            session_id=caller.session.id,
            track_ids=[track_id] if track_id is not None else None,
        )
    except ServiceError as exc:
        return finish(request, exc.message, back_to, failed=True)
    if track_id is None and not back:
        back_to = f"/playlists/{row.id}"
    what = "with the track" if track_id is not None else ""
    return finish(request, f"made the playlist {row.name} {what}".strip(), back_to)
