"""The track page (the player, likes, timed comments, share) and the owner's forms on it:
edit the details, delete, retry a failed publish."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plyr.social.tags import tags_of
from plyr.tracks import editing
from plyr.tracks.catalogue import playable_track
from plyr.web.pages.track_social import track_social
from plyr.web.shared.caller import BrowserDep, CsrfDep, OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.operators import viewer_of
from plyr.web.shared.params import PathId
from plyr.web.shared.templating import render
from plyr.web.shared.views import track_out

router = APIRouter(include_in_schema=False)


@router.get("/tracks/{track_id}", response_class=HTMLResponse)
async def track_page(
    track_id: PathId, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> HTMLResponse:
    viewer, admin = viewer_of(runtime, caller)
    # Its artist still sees a taken-down track's page, with the notice; listeners get 451.
    track = await playable_track(runtime, track_id, viewer, admin=admin, owner_sees=True)
    owner = caller is not None and caller.did == track.artist_did
    view = track_out(runtime, track, await tags_of(runtime, track_id))
    return render(
        request,
        "track.html",
        {
            "title": track.title,
            "track": view,
            "owner": owner,
            **await track_social(runtime, track, caller),
        },
    )


@router.post("/tracks/{track_id}/edit")
async def edit_from_page(
    track_id: PathId,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    title: Annotated[str, Form(max_length=256)],
    album: Annotated[str, Form(max_length=256)] = "",
    tags: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    await editing.edit_track(
        runtime,
        track_id,
        caller.did,
        {"title": title, "album": album, "tags": [tags], "description": description},
    )
    return RedirectResponse(f"/tracks/{track_id}", status_code=303)


@router.post("/tracks/{track_id}/delete")
async def delete_from_page(
    track_id: PathId, runtime: RuntimeDep, caller: BrowserDep, _csrf: CsrfDep
) -> Response:
    await editing.delete_track(runtime, track_id, caller.did, caller.session.id)
    return RedirectResponse("/", status_code=303)


@router.post("/tracks/{track_id}/publish")
async def publish_from_page(
    track_id: PathId, runtime: RuntimeDep, caller: BrowserDep, _csrf: CsrfDep
) -> Response:
    await editing.retry_publish(runtime, track_id, caller.did)
    return RedirectResponse(f"/tracks/{track_id}", status_code=303)
