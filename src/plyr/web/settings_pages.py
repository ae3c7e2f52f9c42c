"""Account settings: preferences, scrobbling (a scope upgrade), developer tokens; `/api/me`,
`/api/preferences`; the account parts of the portal (bio, repair, deleting the account)."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, StrictBool

from plyr.auth import oauth
from plyr.auth.client import scopes_for
from plyr.auth.sessions import COOKIE_NAME, dev_tokens, end_session
from plyr.errors import ServiceError
from plyr.social import account, profiles
from plyr.social.preferences import (
    PreferencesView,
    get_preferences,
    update_preferences,
)
from plyr.tracks import service
from plyr.web import admin_api
from plyr.web.auth import BrowserDep, Caller, CallerDep, CsrfDep
from plyr.web.auth_pages import TOKEN_DAYS, begin, client_scrobbles, token_days_choice
from plyr.web.deps import RuntimeDep
from plyr.web.errors import ApiError
from plyr.web.limits import limit_writes
from plyr.web.templating import render

log = logging.getLogger(__name__)

router = APIRouter()
router.include_router(admin_api.router)

NOTICES = {
    "scrobbling-on": "scrobbling to teal.fm is on: plays you listen to are written to your pds.",
    "scrobbling-off": "scrobbling is off, and plyr no longer holds permission to write plays.",
    "token-revoked": "the token was revoked.",
    "preferences-saved": "saved.",
}
THEMES = (("system", "follow the system"), ("dark", "dark"), ("light", "light"))


@router.get("/settings", response_class=HTMLResponse, include_in_schema=False)
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
) -> HTMLResponse:
    tokens = await dev_tokens(runtime, caller.did)
    return render(
        request,
        "settings.html",
        {
            "title": "settings",
            "preferences": caller.preferences or await get_preferences(runtime, caller.did),
            "themes": THEMES,
            "notice": notice,
            "scrobbling": client_scrobbles(runtime, caller.session.scope),
            "tokens": tokens,
            "token_days": TOKEN_DAYS,
            "error": error,
        },
        status_code=status,
    )


@router.post("/settings/scrobbling", include_in_schema=False)
async def set_scrobbling(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    enabled: Annotated[str, Form()] = "on",
) -> Response:
    """Turning scrobbling on or off is a new authorization with (or without) teal.fm scopes."""
    want = enabled == "on"
    if want == client_scrobbles(runtime, caller.session.scope):
        return RedirectResponse("/settings", status_code=303)
    try:
        url = await begin(
            runtime,
            identifier=caller.did,
            purpose="upgrade",
            scope=scopes_for(runtime.settings, scrobbling=want),
            session_id=caller.session.id,
        )
    except oauth.OAuthError as exc:
        return await _render_settings(request, runtime, caller, error=exc.message, status=502)
    return RedirectResponse(url, status_code=303)


@router.post("/settings/tokens", include_in_schema=False)
async def create_token(
    request: Request,
    runtime: RuntimeDep,
    caller: BrowserDep,
    _csrf: CsrfDep,
    name: Annotated[str, Form(max_length=100)] = "",
    expires: Annotated[str, Form()] = "90",
) -> Response:
    """Each developer token is its own OAuth grant: start an authorization for it."""
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
            scope=scopes_for(runtime.settings, scrobbling=False),
            session_id=caller.session.id,
            token_name=name.strip() or None,
            token_days=days,
        )
    except oauth.OAuthError as exc:
        return await _render_settings(request, runtime, caller, error=exc.message, status=502)
    return RedirectResponse(url, status_code=303)


@router.post("/settings/tokens/{token_id}/revoke", include_in_schema=False)
async def revoke_token(
    runtime: RuntimeDep, caller: BrowserDep, _csrf: CsrfDep, token_id: str
) -> Response:
    for token in await dev_tokens(runtime, caller.did):
        if token.id.startswith(token_id) and len(token_id) >= 16:
            await end_session(runtime, token.id)
            return RedirectResponse("/settings?done=token-revoked", status_code=303)
    raise ApiError(404, "not_found", "no such token")


class Me(BaseModel):
    did: str
    handle: str
    display_name: str | None
    via: str
    scope: list[str]


@router.get("/api/me", tags=["account"])
async def me(caller: CallerDep) -> Me:
    """Who the session cookie or `Authorization: Bearer <developer token>` belongs to."""
    return Me(
        did=caller.did,
        handle=caller.handle,
        display_name=caller.display_name,
        via=caller.via,
        scope=caller.session.scope.split(),
    )


class TokenInfo(BaseModel):
    id: str
    name: str | None
    hint: str | None
    created_at: str
    last_used_at: str
    expires_at: str | None


@router.get("/api/tokens", tags=["account"])
async def list_tokens(runtime: RuntimeDep, caller: CallerDep) -> list[TokenInfo]:
    """The caller's developer tokens (never the secrets)."""
    return [_info(row) for row in await dev_tokens(runtime, caller.did)]


def _info(row: Any) -> TokenInfo:
    return TokenInfo(
        id=row.id[:16],
        name=row.name,
        hint=row.token_hint,
        created_at=row.created_at.isoformat(),
        last_used_at=row.last_used_at.isoformat(),
        expires_at=row.expires_at.isoformat() if row.expires_at else None,
    )


# --- preferences ------------------------------------------------------------------------


class PreferencesOut(BaseModel):
    theme: Literal["system", "light", "dark"]
    accent: str | None
    auto_advance: bool
    loudness_levelling: bool
    allow_comments: bool
    show_liked: bool
    show_sensitive: bool
    hidden_tags: list[str]

    @classmethod
    def of(cls, view: PreferencesView) -> PreferencesOut:
        return cls.model_validate(view.as_dict())


class PreferencesPatch(BaseModel):
    """Any subset of the preferences; `accent: null` goes back to the default colour."""

    model_config = ConfigDict(extra="forbid")

    theme: Literal["system", "light", "dark"] | None = None
    accent: str | None = None
    auto_advance: StrictBool | None = None
    loudness_levelling: StrictBool | None = None
    allow_comments: StrictBool | None = None
    show_liked: StrictBool | None = None
    show_sensitive: StrictBool | None = None
    hidden_tags: list[str] | None = None


@router.get("/api/preferences", tags=["account"])
async def read_preferences(runtime: RuntimeDep, caller: CallerDep) -> PreferencesOut:
    """The caller's preferences (the defaults until they save any)."""
    return PreferencesOut.of(await get_preferences(runtime, caller.did))


@router.patch("/api/preferences", tags=["account"])
async def patch_preferences(
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    _csrf: CsrfDep,
    changes: PreferencesPatch,
) -> PreferencesOut:
    """Change some preferences; the fields left out stay as they are."""
    await limit_writes(runtime, request, caller.did)
    given = changes.model_dump(exclude_unset=True)
    for name, value in given.items():
        if value is None and name != "accent":  # only the accent has a "none" (the default)
            raise ApiError(
                422, "invalid_input", f"{name} cannot be null", [{"field": name, "message": "null"}]
            )
    return PreferencesOut.of(await update_preferences(runtime, caller.did, given))


@router.post("/settings/preferences", include_in_schema=False)
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
    hidden_tags: Annotated[str, Form(max_length=1000)] = "",
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
        "hidden_tags": [hidden_tags],
    }
    try:
        await update_preferences(runtime, caller.did, changes)
    except ServiceError as exc:
        return await _render_settings(request, runtime, caller, error=exc.message, status=422)
    return RedirectResponse("/settings?done=preferences-saved", status_code=303)


# --- the account parts of the portal ----------------------------------------------------

PORTAL_NOTICES = {
    "bio-saved": "your bio is saved; it is on its way to your pds.",
}
PORTAL_PROBLEMS = {
    "handle-mismatch": "that is not your handle, so nothing was deleted. type it exactly as shown.",
}


async def portal_context(
    runtime: RuntimeDep,
    caller: Caller,
    *,
    notice: str | None = None,
    error: str | None = None,
    repaired: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the portal shows: the caller's tracks, their bio, the account forms."""
    return {
        "title": "my tracks",
        "tracks": await service.artist_tracks(runtime, caller.did, include_unpublished=True),
        "bio": await profiles.get_bio(runtime, caller.did) or "",
        "max_bio": profiles.MAX_BIO_GRAPHEMES,
        "notice": notice,
        "error": error,
        "repaired": repaired,
    }


@router.post("/portal/bio", include_in_schema=False)
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


@router.post("/portal/repair", include_in_schema=False)
async def repair(
    request: Request, runtime: RuntimeDep, caller: BrowserDep, _csrf: CsrfDep
) -> Response:
    """Check every record plyr indexes for the caller against their PDS; republish the lost."""
    await limit_writes(runtime, request, caller.did)
    from plyr.social.repair import repair_records  # the lead's module; here: not at import

    try:
        counts = await repair_records(runtime, caller.did, caller.session.id)
    except ServiceError as exc:
        context = await portal_context(runtime, caller, error=exc.message)
        return render(request, "portal.html", context, status_code=exc.status)
    return render(request, "portal.html", await portal_context(runtime, caller, repaired=counts))


@router.post("/portal/delete-account", include_in_schema=False)
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


@router.get("/account/gone", response_class=HTMLResponse, include_in_schema=False)
async def account_gone(request: Request) -> HTMLResponse:
    return render(request, "account_gone.html", {"title": "account deleted"})
