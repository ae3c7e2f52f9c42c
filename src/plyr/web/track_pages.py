"""The upload page and the track page (server-rendered; forms work without JavaScript)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plyr.errors import ServiceError
from plyr.tracks import service
from plyr.web import social_pages
from plyr.web.auth import BrowserDep, CsrfDep, OptionalCaller
from plyr.web.deps import RuntimeDep
from plyr.web.templating import render
from plyr.web.tracks_api import playable_track, receive_upload, track_out

router = APIRouter(include_in_schema=False)

ARTIST_PAGE_TRACKS = 50  # a screenful; older tracks are a `?before=` cursor away

PHASES = (
    ("sending", "send"),
    ("probing", "read"),
    ("hashing", "check"),
    ("transcoding", "convert"),
    ("loudness", "measure"),
    ("artwork", "artwork"),
    ("publishing", "publish"),
    ("published", "done"),
)


def _human_size(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


@router.get("/upload", response_class=HTMLResponse)
async def upload_page(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    upload: Annotated[str | None, Query(max_length=36)] = None,
) -> HTMLResponse:
    progress = None
    if upload:
        try:
            progress = await service.upload_progress(runtime, upload, caller.did)
        except ServiceError:
            progress = None
    return render(
        request,
        "upload.html",
        {
            "title": "upload",
            "progress": progress,
            "phases": PHASES,
            "max_upload": _human_size(runtime.settings.max_upload_bytes),
            "error": None,
        },
    )


@router.post("/upload")
async def upload_without_script(
    request: Request, runtime: RuntimeDep, caller: BrowserDep, _csrf: CsrfDep
) -> Response:
    """The plain form post (no JavaScript): the same checks, then the progress page."""
    settings = runtime.settings
    try:
        accepted = await receive_upload(request, runtime, caller)
    except ServiceError as exc:
        return render(
            request,
            "upload.html",
            {
                "title": "upload",
                "progress": None,
                "phases": PHASES,
                "max_upload": _human_size(settings.max_upload_bytes),
                "error": exc.message,
            },
            status_code=exc.status,
        )
    return RedirectResponse(f"/upload?upload={accepted.id}", status_code=303)


@router.get("/tracks/{track_id}", response_class=HTMLResponse)
async def track_page(
    track_id: int, request: Request, runtime: RuntimeDep, caller: OptionalCaller
) -> HTMLResponse:
    track = await playable_track(runtime, track_id, caller)
    owner = caller is not None and caller.did == track.artist_did
    view = track_out(runtime, track, await service.tags_of(runtime, track_id))
    return render(
        request,
        "track.html",
        {
            "title": track.title,
            "track": view,
            "owner": owner,
            **await social_pages.track_social(runtime, track, caller),
        },
    )


@router.post("/tracks/{track_id}/edit")
async def edit_from_page(
    track_id: int,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    title: Annotated[str, Form(max_length=256)],
    album: Annotated[str, Form(max_length=256)] = "",
    tags: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    await service.edit_track(
        runtime,
        track_id,
        caller.did,
        {"title": title, "album": album, "tags": [tags], "description": description},
    )
    return RedirectResponse(f"/tracks/{track_id}", status_code=303)


@router.post("/tracks/{track_id}/delete")
async def delete_from_page(
    track_id: int, runtime: RuntimeDep, caller: BrowserDep, _csrf: CsrfDep
) -> Response:
    await service.delete_track(runtime, track_id, caller.did, caller.session.id)
    return RedirectResponse("/", status_code=303)


@router.post("/tracks/{track_id}/publish")
async def publish_from_page(
    track_id: int, runtime: RuntimeDep, caller: BrowserDep, _csrf: CsrfDep
) -> Response:
    await service.retry_publish(runtime, track_id, caller.did)
    return RedirectResponse(f"/tracks/{track_id}", status_code=303)


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
    artist = await service.find_artist(runtime, handle_or_did)
    tracks, older = await service.published_tracks_page(
        runtime, artist.did, before=before, limit=ARTIST_PAGE_TRACKS
    )
    social = await social_pages.artist_social(runtime, artist)
    return render(
        request,
        "artist.html",
        {
            "title": artist.display_name or artist.handle,
            "artist": artist,
            "tracks": tracks,
            "track_count": await service.published_track_count(runtime, artist.did),
            "older": older,
            "paged": before is not None,
            **social,
            **await social_pages.row_extras(runtime, tracks + social["liked_tracks"], caller),
        },
    )


@router.get("/portal", response_class=HTMLResponse)
async def portal(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    done: Annotated[str | None, Query(max_length=32)] = None,
) -> HTMLResponse:
    """The signed-in artist's own tracks, in every state, and their account: bio, repairing
    records, deleting the account (those forms post to plyr.web.settings_pages)."""
    from plyr.web.listening_api import portal_analytics
    from plyr.web.settings_pages import PORTAL_NOTICES, portal_context

    notice = PORTAL_NOTICES.get(done or "")
    context = await portal_context(runtime, caller, notice=notice)
    context |= await portal_analytics(runtime, caller.did)
    return render(request, "portal.html", context)
