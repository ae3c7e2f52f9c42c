"""The embeddable player page other sites frame (`/embed/track/{id}`); oEmbed is in the API
and link previews are in the page templates' head."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from plyr.social.tags import tags_of
from plyr.tracks.catalogue import playable_track
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.params import PathId
from plyr.web.shared.templating import render
from plyr.web.shared.views import track_out

router = APIRouter(include_in_schema=False)


@router.get("/embed/track/{track_id}", response_class=HTMLResponse)
async def embed_track(track_id: PathId, request: Request, runtime: RuntimeDep) -> HTMLResponse:
    """A small player for other sites' iframes."""
    track = await playable_track(runtime, track_id, None)
    view = track_out(runtime, track, await tags_of(runtime, track_id))
    # Meant to be framed anywhere: web/shared/security.py lets every site frame /embed/.
    return render(request, "embed_track.html", {"track": view})
