"""The track page (the player, likes, timed comments, share; the artist's content warnings,
with the artwork blurred) and the owner's forms on it: edit the details and the content
warnings, delete, retry a failed publish."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plyr.social.tags import tags_of
from plyr.tracks import editing
from plyr.tracks.catalogue import audio_notice, audio_pending, playable_track
from plyr.tracks.labels import blurs_artwork
from plyr.web.pages.bluesky import share_context
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
    # A track whose audio is being fetched (or could not be used) has its page, saying so.
    track = await playable_track(
        runtime, track_id, viewer, admin=admin, owner_sees=True, audio_required=False
    )
    owner = caller is not None and caller.did == track.artist_did
    view = track_out(runtime, track, await tags_of(runtime, track_id))
    # Labelled artwork stays out of link previews; the page blurs it, with a control to show
    # it, except to its artist and to viewers who opted in to sensitive artwork.
    art_labelled = blurs_artwork(track.self_labels)
    opted_in = bool(caller and caller.preferences and caller.preferences.show_sensitive)
    return render(
        request,
        "track.html",
        {
            "title": track.title,
            "track": view,
            "owner": owner,
            "art_labelled": art_labelled,
            "blur_labelled_art": art_labelled and not owner and not opted_in,
            "audio_notice": audio_notice(track),
            "audio_pending": audio_pending(track),
            **await track_social(runtime, track, caller),
            **share_context(runtime, track, caller),
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
    # The form's checkboxes: none ticked sends none, which removes every warning.
    self_labels: Annotated[list[str] | None, Form(max_length=10)] = None,
) -> Response:
    await editing.edit_track(
        runtime,
        track_id,
        caller.did,
        {
            "title": title,
            "album": album,
            "tags": [tags],
            "description": description,
            "self_labels": self_labels or [],
        },
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
