"""The track page (the player, likes, timed comments, share, lyrics; the artist's content
warnings, with the artwork blurred) and the owner's forms on it: edit the details and the content
warnings, delete, retry a failed publish."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plyr.social import tag_effects
from plyr.tracks import editing, lyrics
from plyr.tracks.browsing import track_page_read
from plyr.tracks.catalogue import audio_notice, audio_pending
from plyr.tracks.labels import blurs_artwork
from plyr.web.pages.bluesky import share_context
from plyr.web.pages.common import clock
from plyr.web.shared.caller import BrowserDep, CsrfDep, OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.operators import viewer_of
from plyr.web.shared.page_cache import SharedPage
from plyr.web.shared.params import PathId
from plyr.web.shared.reads import reading
from plyr.web.shared.templating import render
from plyr.web.shared.views import track_out

router = APIRouter(include_in_schema=False)


@router.get("/tracks/{track_id}", response_class=HTMLResponse)
async def track_page(
    track_id: PathId,
    request: Request,
    runtime: RuntimeDep,
    caller: OptionalCaller,
    _shared: SharedPage,
) -> HTMLResponse:
    viewer, admin = viewer_of(runtime, caller)
    # Its artist still sees a taken-down track's page, with the notice; listeners get 451.
    # A track whose audio is being fetched (or could not be used) has its page, saying so.
    async with reading(runtime) as reads:
        read = await track_page_read(reads, track_id, viewer, admin=admin)
    track = read.track
    owner = caller is not None and caller.did == track.artist_did
    # Labelled artwork stays out of link previews; the page blurs it, with a control to show
    # it, except to its artist and to viewers who opted in to sensitive artwork.
    art_labelled = blurs_artwork(track.self_labels)
    opted_in = bool(caller and caller.preferences and caller.preferences.show_sensitive)
    return render(
        request,
        "track.html",
        {
            "title": track.title,
            "track": track_out(runtime, track, read.tags),
            "owner": owner,
            "art_labelled": art_labelled,
            "blur_labelled_art": art_labelled and not owner and not opted_in,
            "audio_notice": audio_notice(track),
            "audio_pending": audio_pending(track),
            "like_count": read.like_count,
            "liked": read.liked,
            "comments": read.comments,
            "comments_allowed": read.comments_allowed,
            "track_id": track.id,
            "track_duration": track.duration_seconds,
            "clock": clock,
            "likers": read.likers,
            "album_list": {"id": read.album_id} if read.album_id is not None else None,
            "art_key": track.image_key or track.image_url,
            "lyrics": lyrics.lyrics_of(track),
            "tag_effect": await tag_effects.effect_for(
                runtime.settings, track.id, track.title, read.tags
            ),
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
    lyrics: Annotated[str, Form(max_length=10_000)] = "",
    synced_lyrics: Annotated[str, Form(max_length=20_000)] = "",
    lyrics_lang: Annotated[str, Form(max_length=64)] = "",
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
            "lyrics": {"plain": lyrics, "synced": synced_lyrics, "lang": lyrics_lang},
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
