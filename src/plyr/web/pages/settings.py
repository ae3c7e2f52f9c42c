"""The settings page: preferences (the plain form; `/api/preferences` is the JSON way),
scrobbling to teal.fm and sharing to Bluesky (each a new authorization with other scopes),
developer tokens, the Subsonic app password (made, shown once, replaced or removed here)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from plyr.auth import oauth, subsonic_passwords
from plyr.auth.sessions import dev_tokens
from plyr.auth.signin import (
    TOKEN_DAYS,
    begin,
    client_scrobbles,
    client_shares,
    revoke_dev_token,
    token_days_choice,
    wants_of,
)
from plyr.db.text import storable
from plyr.errors import ServiceError
from plyr.social.preferences import get_preferences, update_preferences
from plyr.web.pages.signin import safe_next
from plyr.web.shared.caller import BrowserDep, CsrfDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import ApiError
from plyr.web.shared.limits import limit_writes
from plyr.web.shared.templating import render

router = APIRouter(include_in_schema=False)

NOTICES = {
    "scrobbling-on": "scrobbling to teal.fm is on: plays you listen to are written to your pds.",
    "scrobbling-off": "scrobbling is off, and plyr no longer holds permission to write plays.",
    "sharing-on": "plyr may now post to bluesky when you share a track.",
    "sharing-off": "plyr no longer holds permission to post to bluesky.",
    "token-revoked": "the token was revoked.",
    "preferences-saved": "saved.",
    "subsonic-removed": "the app password was removed: players that used it can no longer sign in.",
}
THEMES = (("system", "follow the system"), ("dark", "dark"), ("light", "light"))
TRANSITIONS = (("off", "off"), ("gapless", "gapless"), ("crossfade", "crossfade"))


@router.get("/settings", response_class=HTMLResponse)
async def settings_page(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    done: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    return await _render_settings(request, runtime, caller, notice=NOTICES.get(done or ""))


async def _render_settings(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
    subsonic_password: str | None = None,
) -> HTMLResponse:
    tokens = await dev_tokens(runtime, caller.did)
    response = render(
        request,
        "settings.html",
        {
            "title": "settings",
            "preferences": caller.preferences or await get_preferences(runtime, caller.did),
            "themes": THEMES,
            "transitions": TRANSITIONS,
            "notice": notice,
            "scrobbling": client_scrobbles(runtime.settings, caller.session.scope),
            "sharing": client_shares(runtime.settings, caller.session.scope),
            "tokens": tokens,
            "token_days": TOKEN_DAYS,
            "error": error,
            "subsonic": await subsonic_passwords.password_status(runtime, caller.did),
            "subsonic_password": subsonic_password,
            "server_url": runtime.settings.public_url.rstrip("/"),
        },
        status_code=status,
    )
    if subsonic_password is not None:  # shown once: no cache may keep the page
        response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/settings/scrobbling")
async def set_scrobbling(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    enabled: Annotated[str, Form()] = "on",
) -> Response:
    """Turning scrobbling on or off is a new authorization with (or without) teal.fm scopes."""
    want = enabled == "on"
    have = wants_of(runtime.settings, caller.session.scope)
    if want == have.scrobbling:
        return RedirectResponse("/settings", status_code=303)
    try:
        url = await begin(
            runtime,
            identifier=caller.did,
            purpose="upgrade",
            wants=replace(have, scrobbling=want),
            session_id=caller.session.id,
        )
    except oauth.OAuthError as exc:
        return await _render_settings(request, runtime, caller, error=exc.message, status=502)
    return RedirectResponse(url, status_code=303)


@router.post("/settings/sharing")
async def set_sharing(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    enabled: Annotated[str, Form()] = "on",
    next_path: Annotated[str, Form(alias="next", max_length=512)] = "",
) -> Response:
    """Letting plyr post to Bluesky (a track's "share to bluesky") or not: a new
    authorization with (or without) the post scope; back to `next` afterwards (the track
    being shared), else here."""
    want = enabled == "on"
    have = wants_of(runtime.settings, caller.session.scope)
    back = safe_next(next_path) if next_path else None
    if want == have.sharing:
        return RedirectResponse(back or "/settings", status_code=303)
    try:
        url = await begin(
            runtime,
            identifier=caller.did,
            purpose="upgrade",
            wants=replace(have, sharing=want),
            session_id=caller.session.id,
            return_to=back,
        )
    except oauth.OAuthError as exc:
        return await _render_settings(request, runtime, caller, error=exc.message, status=502)
    return RedirectResponse(url, status_code=303)


@router.post("/settings/tokens")
async def create_token(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    name: Annotated[str, Form(max_length=100)] = "",
    expires: Annotated[str, Form()] = "90",
) -> Response:
    """Each developer token is its own OAuth grant: start an authorization for it."""
    if not storable(name):
        return await _render_settings(
            request, runtime, caller, error="a token name can't hold a NUL character", status=422
        )
    try:
        days = token_days_choice(expires)
    except ValueError:
        return await _render_settings(
            request, runtime, caller, error="choose a listed expiry", status=400
        )
    try:
        url = await begin(
            runtime,
            identifier=caller.did,
            purpose="dev_token",
            session_id=caller.session.id,
            token_name=name.strip() or None,
            token_days=days,
        )
    except oauth.OAuthError as exc:
        return await _render_settings(request, runtime, caller, error=exc.message, status=502)
    return RedirectResponse(url, status_code=303)


@router.post("/settings/tokens/{token_id}/revoke")
async def revoke_token(
    runtime: RuntimeDep, caller: BrowserDep, _csrf: CsrfDep, token_id: str
) -> Response:
    if not await revoke_dev_token(runtime, caller.did, token_id):
        raise ApiError(404, "not_found", "no such token")
    return RedirectResponse("/settings?done=token-revoked", status_code=303)


# --- the subsonic app password ----------------------------------------------------------


@router.post("/settings/subsonic/password", response_class=HTMLResponse)
async def make_subsonic_password(
    request: Request, runtime: RuntimeDep, caller: BrowserDep, _csrf: CsrfDep
) -> HTMLResponse:
    """A new app password (replacing any), shown on the page this once."""
    await limit_writes(runtime, request, caller.did)
    password = await subsonic_passwords.create_password(runtime, caller.did)
    return await _render_settings(request, runtime, caller, subsonic_password=password)


@router.post("/settings/subsonic/password/remove")
async def remove_subsonic_password(
    request: Request, runtime: RuntimeDep, caller: BrowserDep, _csrf: CsrfDep
) -> Response:
    await limit_writes(runtime, request, caller.did)
    await subsonic_passwords.remove_password(runtime, caller.did)
    return RedirectResponse("/settings?done=subsonic-removed", status_code=303)


# --- preferences ------------------------------------------------------------------------


@router.post("/settings/preferences")
async def save_preferences_form(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    theme: Annotated[str, Form(max_length=16)] = "system",
    accent: Annotated[str, Form(max_length=16)] = "",
    accent_default: Annotated[str | None, Form(max_length=8)] = None,
    auto_advance: Annotated[str | None, Form(max_length=8)] = None,
    loudness_levelling: Annotated[str | None, Form(max_length=8)] = None,
    allow_comments: Annotated[str | None, Form(max_length=8)] = None,
    show_liked: Annotated[str | None, Form(max_length=8)] = None,
    show_sensitive: Annotated[str | None, Form(max_length=8)] = None,
    show_warned_tracks: Annotated[str | None, Form(max_length=8)] = None,
    hidden_tags: Annotated[str, Form(max_length=1000)] = "",
    transition: Annotated[str, Form(max_length=16)] = "off",
    crossfade_seconds: Annotated[str, Form(max_length=8)] = "6",
) -> Response:
    """The plain form (no JavaScript): every field at once; an unticked box is off."""
    await limit_writes(runtime, request, caller.did)
    changes: dict[str, Any] = {
        "theme": theme,
        "accent": None if accent_default else accent,
        "auto_advance": auto_advance is not None,
        "loudness_levelling": loudness_levelling is not None,
        "allow_comments": allow_comments is not None,
        "show_liked": show_liked is not None,
        "show_sensitive": show_sensitive is not None,
        "show_warned_tracks": show_warned_tracks is not None,
        "hidden_tags": [hidden_tags],
        "transition": transition,
        "crossfade_seconds": int(crossfade_seconds) if crossfade_seconds.isdigit() else -1,
    }
    try:
        await update_preferences(runtime, caller.did, changes)
    except ServiceError as exc:
        return await _render_settings(request, runtime, caller, error=exc.message, status=422)
    return RedirectResponse("/settings?done=preferences-saved", status_code=303)
