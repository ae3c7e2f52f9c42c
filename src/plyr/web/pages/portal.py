"""The portal: the signed-in artist's own tracks in every state, their plays per day and per
track, and their account: bio, repairing records, exporting everything, deleting the account."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plyr.auth.sessions import COOKIE_NAME
from plyr.errors import ServiceError
from plyr.export.contents import library_bytes
from plyr.export.jobs import latest_export, start_export
from plyr.listening import stats
from plyr.moderation import flags
from plyr.runtime import Runtime
from plyr.social import account, profiles
from plyr.social.repair import repair_records
from plyr.tracks.catalogue import artist_tracks
from plyr.web.shared.caller import BrowserDep, Caller, CsrfDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.limits import enforce, limit_writes
from plyr.web.shared.params import PathId
from plyr.web.shared.templating import render

router = APIRouter(include_in_schema=False)

PORTAL_NOTICES = {
    "bio-saved": "your bio is saved; it is on its way to your pds.",
    "appealed": "your reply is sent: the track is back in review.",
    "export-started": "your export is being made; its progress is below.",
}
PORTAL_PROBLEMS = {
    "handle-mismatch": "that is not your handle, so nothing was deleted. type it exactly as shown.",
}


async def portal_context(
    runtime: Runtime,
    caller: Caller,
    *,
    notice: str | None = None,
    error: str | None = None,
    repaired: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the portal shows: the caller's tracks, their bio, the account forms."""
    return {
        "title": "my tracks",
        "tracks": await artist_tracks(runtime, caller.did, include_unpublished=True),
        # Tracks under review or taken down, with why, and the one reply the artist may send.
        "reviews": await flags.artist_flags(runtime, caller.did),
        "max_appeal": flags.MAX_APPEAL,
        "bio": await profiles.get_bio(runtime, caller.did) or "",
        "max_bio": profiles.MAX_BIO_GRAPHEMES,
        "notice": notice,
        "error": error,
        "repaired": repaired,
        "export": await latest_export(runtime, caller.did),
        "library_bytes": await library_bytes(runtime, caller.did),
    }


async def portal_analytics(runtime: Runtime, did: str) -> dict[str, Any]:
    """The portal's analytics section: bars sized server-side (no chart library)."""
    analytics = await stats.artist_analytics(runtime, did)
    busiest_day = max((day.plays for day in analytics.per_day), default=0)
    busiest_track = max((track.plays for track in analytics.tracks), default=0)
    return {
        "analytics": analytics,
        "analytics_day_max": busiest_day,
        "analytics_track_max": busiest_track,
    }


@router.get("/portal", response_class=HTMLResponse)
async def portal(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    done: Annotated[str | None, Query(max_length=32)] = None,
) -> HTMLResponse:
    """The signed-in artist's own tracks, in every state, and their account."""
    notice = PORTAL_NOTICES.get(done or "")
    context = await portal_context(runtime, caller, notice=notice)
    context |= await portal_analytics(runtime, caller.did)
    return render(request, "portal.html", context)


@router.post("/portal/bio")
async def save_bio(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    bio: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    await limit_writes(runtime, request, caller.did)
    try:
        await profiles.set_bio(runtime, caller.did, bio, caller.session.id)
    except ServiceError as exc:
        context = await portal_context(runtime, caller, error=exc.message)
        context["bio"] = bio
        return render(request, "portal.html", context, status_code=exc.status)
    return RedirectResponse("/portal?done=bio-saved", status_code=303)


@router.post("/portal/flags/{flag_id}/appeal")
async def appeal(
    flag_id: PathId,
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    text: Annotated[str, Form(max_length=flags.MAX_APPEAL * 2)] = "",
) -> Response:
    """The artist's one reply to a flag on their track: it goes back to the operators."""
    await limit_writes(runtime, request, caller.did)
    try:
        await flags.appeal(runtime, flag_id, did=caller.did, text=text)
    except ServiceError as exc:
        context = await portal_context(runtime, caller, error=exc.message)
        context["appeal_draft"] = {flag_id: text}
        return render(request, "portal.html", context, status_code=exc.status)
    return RedirectResponse("/portal?done=appealed", status_code=303)


@router.post("/portal/repair")
async def repair(
    request: Request, runtime: RuntimeDep, caller: BrowserDep, _csrf: CsrfDep
) -> Response:
    """Check every record plyr indexes for the caller against their PDS; republish the lost."""
    await limit_writes(runtime, request, caller.did)
    try:
        counts = await repair_records(runtime, caller.did, caller.session.id)
    except ServiceError as exc:
        context = await portal_context(runtime, caller, error=exc.message)
        return render(request, "portal.html", context, status_code=exc.status)
    return render(request, "portal.html", await portal_context(runtime, caller, repaired=counts))


@router.post("/portal/export")
async def export(
    request: Request, runtime: RuntimeDep, caller: BrowserDep, _csrf: CsrfDep
) -> Response:
    """Start an export job (the form without JavaScript; the page's script uses the API)."""
    try:
        hourly = runtime.settings.rate_limit_exports_per_hour
        await enforce(runtime, request, caller.did, "export", hourly, 3600)
        await start_export(runtime, caller.did)
    except ServiceError as exc:
        context = await portal_context(runtime, caller, error=exc.message)
        return render(request, "portal.html", context, status_code=exc.status)
    return RedirectResponse("/portal?done=export-started#export", status_code=303)


@router.post("/portal/delete-account")
async def delete_account(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    confirm_handle: Annotated[str, Form(max_length=300)] = "",
    also_records: Annotated[str | None, Form(max_length=8)] = None,
) -> Response:
    """Delete the account after the user typed their handle; then sign out."""
    typed = confirm_handle.strip().removeprefix("@")
    if typed != caller.handle:
        context = await portal_context(runtime, caller, error=PORTAL_PROBLEMS["handle-mismatch"])
        context["handle_error"] = True
        return render(request, "portal.html", context, status_code=422)
    try:
        await account.delete_account(
            runtime, caller.did, caller.session, also_records=also_records is not None
        )
    except ServiceError as exc:
        context = await portal_context(runtime, caller, error=exc.message)
        return render(request, "portal.html", context, status_code=exc.status)
    response = RedirectResponse("/account/gone", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


@router.get("/account/gone", response_class=HTMLResponse)
async def account_gone(request: Request) -> HTMLResponse:
    return render(request, "account_gone.html", {"title": "account deleted"})
