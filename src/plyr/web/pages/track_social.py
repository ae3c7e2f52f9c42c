"""The track page's social forms: like and unlike, timed comments (post, edit, delete).
Every form works without JavaScript; with htmx the posts answer with a partial and a
toast (what the page itself shows of them is read by `plyr.tracks.browsing`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from plyr.db.models import Track
from plyr.errors import ServiceError
from plyr.runtime import Runtime
from plyr.social import comments, likes
from plyr.tracks.catalogue import get_track
from plyr.web.pages.common import clock, finish, is_htmx, parse_position, safe_back
from plyr.web.shared.caller import BrowserDep, Caller, CsrfDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.limits import limit_writes
from plyr.web.shared.params import PathId
from plyr.web.shared.templating import render

router = APIRouter(include_in_schema=False)


async def _like_state(runtime: Runtime, track_id: int, caller: Caller | None) -> dict[str, Any]:
    counts = await likes.like_counts(runtime, [track_id])
    liked = await likes.is_liked(runtime, caller.did if caller else None, [track_id])
    return {"like_count": counts.get(track_id, 0), "liked": track_id in liked}


@router.post("/tracks/{track_id}/like")
async def like_from_page(
    track_id: PathId,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    op: Annotated[str, Form(pattern="^(like|unlike)$")] = "like",
    back: Annotated[str, Form(max_length=512)] = "",
) -> Response:
    back_to = safe_back(back, f"/tracks/{track_id}")
    try:
        await limit_writes(runtime, request, caller.did)
        track = await get_track(runtime, track_id)
        if op == "like":
            await likes.like(runtime, caller.did, track_id, caller.session.id)
            message = f"liked “{track.title}”"
        else:
            await likes.unlike(runtime, caller.did, track_id, caller.session.id)
            message = f"removed “{track.title}” from your likes"
    except ServiceError as exc:
        return finish(request, exc.message, back_to, failed=True)
    partial = None
    if is_htmx(request):
        state = await _like_state(runtime, track_id, caller)
        partial = render(request, "_like_button.html", {"track": track, "back": back_to, **state})
    return finish(request, message, back_to, partial=partial)


# --- comments ------------------------------------------------------------------------------


async def _comments_context(
    runtime: Runtime, track: Track, caller: Caller | None
) -> dict[str, Any]:
    return {
        "comments": await comments.comments_on(runtime, track.id),
        "comments_allowed": await comments.comments_allowed(runtime, track.artist_did),
        "track_id": track.id,
        "track_duration": track.duration_seconds,
        "clock": clock,
    }


async def _comments_partial(
    request: Request, runtime: Runtime, track_id: int, caller: Caller
) -> HTMLResponse:
    track = await get_track(runtime, track_id)
    return render(request, "_comments.html", await _comments_context(runtime, track, caller))


@router.post("/tracks/{track_id}/comments")
async def comment_from_page(
    track_id: PathId,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    text: Annotated[str, Form(max_length=4000)] = "",
    at: Annotated[str, Form(max_length=16)] = "0:00",
) -> Response:
    back = f"/tracks/{track_id}#comments"
    try:
        await limit_writes(runtime, request, caller.did)
        position = parse_position(at)
        await comments.add_comment(runtime, caller.did, track_id, text, position, caller.session.id)
    except ServiceError as exc:
        return finish(request, exc.message, back, failed=True)
    partial = (
        await _comments_partial(request, runtime, track_id, caller) if is_htmx(request) else None
    )
    return finish(request, f"comment posted at {clock(position // 1000)}", back, partial=partial)


@router.post("/tracks/{track_id}/comments/{comment_id}/edit")
async def edit_comment_from_page(
    track_id: PathId,
    comment_id: PathId,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    back = f"/tracks/{track_id}#comments"
    try:
        await limit_writes(runtime, request, caller.did)
        await comments.edit_comment(runtime, comment_id, caller.did, text, caller.session.id)
    except ServiceError as exc:
        return finish(request, exc.message, back, failed=True)
    partial = (
        await _comments_partial(request, runtime, track_id, caller) if is_htmx(request) else None
    )
    return finish(request, "comment saved", back, partial=partial)


@router.post("/tracks/{track_id}/comments/{comment_id}/delete")
async def delete_comment_from_page(
    track_id: PathId,
    comment_id: PathId,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
) -> Response:
    back = f"/tracks/{track_id}#comments"
    try:
        await comments.delete_comment(runtime, comment_id, caller.did, caller.session.id)
    except ServiceError as exc:
        return finish(request, exc.message, back, failed=True)
    partial = (
        await _comments_partial(request, runtime, track_id, caller) if is_htmx(request) else None
    )
    return finish(request, "comment deleted", back, partial=partial)
