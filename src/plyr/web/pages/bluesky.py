"""Sharing a track to Bluesky from its page. With JavaScript the track page's dialog posts
through `/api/tracks/{id}/share/bluesky` (static/js/bluesky.js); these routes are the same
confirmation as a page of its own and its plain form, and what the track page needs to
draw the dialog (`share_context`). Without the permission to post, the form starts the
scope upgrade (`POST /settings/sharing` does the same for the dialog) and comes back here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plyr.auth import oauth
from plyr.auth.signin import begin, client_shares, wants_of
from plyr.db.models import Track
from plyr.errors import ServiceError
from plyr.runtime import Runtime
from plyr.social import bluesky
from plyr.tracks.catalogue import playable_track
from plyr.web.shared.caller import BrowserDep, Caller, CsrfDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.limits import enforce, limit_writes
from plyr.web.shared.params import PathId
from plyr.web.shared.templating import render
from plyr.web.shared.views import track_out

router = APIRouter(include_in_schema=False)

# The plain form waits this long for the post before saying it is on its way.
WAIT_SECONDS = 8.0


def share_context(runtime: Runtime, track: Track, caller: Caller | None) -> dict[str, Any]:
    """What the share dialog shows: the default text, whether plyr may already post."""
    settings = runtime.settings
    link = bluesky.track_link(settings, track.id)
    return {
        "bluesky": {
            "text": bluesky.default_text(track.title, track.artist_name, link),
            "allowed": caller is not None and client_shares(settings, caller.session.scope),
            "host": urlsplit(settings.public_url).netloc,
            "max": bluesky.MAX_GRAPHEMES,
        }
    }


async def _page(
    request: Request,
    runtime: Runtime,
    caller: Caller,
    track_id: int,
    *,
    text: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    track = await playable_track(runtime, track_id, caller.did)
    context = share_context(runtime, track, caller)
    if text is not None:
        context["bluesky"]["text"] = text
    return render(
        request,
        "share_bluesky.html",
        {
            "title": f"share {track.title} to bluesky",
            "track": track_out(runtime, track, []),
            "art_key": track.image_key or track.image_url,
            "error": error,
            **context,
        },
        status_code=status,
    )


@router.get("/tracks/{track_id}/share/bluesky", response_class=HTMLResponse)
async def share_page(
    track_id: PathId, request: Request, runtime: RuntimeDep, caller: BrowserDep
) -> HTMLResponse:
    return await _page(request, runtime, caller, track_id)


@router.post("/tracks/{track_id}/share/bluesky")
async def share_from_page(
    track_id: PathId,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    text: Annotated[str, Form(max_length=3000)] = "",
) -> Response:
    # The same budget as the API's: the form is another way to post, not a way around it.
    await limit_writes(runtime, request, caller.did)
    await enforce(runtime, request, caller.did, "bluesky-share", bluesky.SHARES_PER_HOUR, 3600)
    try:
        share = await bluesky.share_track(runtime, caller.session, track_id, text)
    except ServiceError as exc:
        if exc.code == bluesky.SCOPE_MISSING:
            return await _upgrade(request, runtime, caller, track_id)
        if exc.status == 422:
            return await _page(
                request, runtime, caller, track_id, text=text, error=exc.message, status=422
            )
        raise
    outcome = await bluesky.await_share(runtime, share, WAIT_SECONDS)
    done = "posted to bluesky" if outcome.state == "posted" else "your post is on its way"
    return RedirectResponse(f"/tracks/{track_id}?done={quote(done)}", status_code=303)


async def _upgrade(request: Request, runtime: Runtime, caller: Caller, track_id: int) -> Response:
    """Ask the user's server for the permission to post; back to this page afterwards."""
    try:
        url = await begin(
            runtime,
            identifier=caller.did,
            purpose="upgrade",
            wants=replace(wants_of(runtime.settings, caller.session.scope), sharing=True),
            session_id=caller.session.id,
            return_to=f"/tracks/{track_id}/share/bluesky",
        )
    except oauth.OAuthError as exc:
        return await _page(request, runtime, caller, track_id, error=exc.message, status=502)
    return RedirectResponse(url, status_code=303)
