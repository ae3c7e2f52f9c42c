"""Account settings: scrobbling (a scope upgrade) and developer tokens; `/api/me`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from plyr.auth import oauth
from plyr.auth.client import scopes_for
from plyr.auth.sessions import dev_tokens, end_session
from plyr.web.auth import BrowserDep, CallerDep, CsrfDep
from plyr.web.auth_pages import TOKEN_DAYS, begin, client_scrobbles, token_days_choice
from plyr.web.deps import RuntimeDep
from plyr.web.errors import ApiError
from plyr.web.templating import render

router = APIRouter()

NOTICES = {
    "scrobbling-on": "scrobbling to teal.fm is on: plays you listen to are written to your pds.",
    "scrobbling-off": "scrobbling is off, and plyr no longer holds permission to write plays.",
    "token-revoked": "the token was revoked.",
}


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
