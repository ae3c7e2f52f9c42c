"""Sign-in pages: `/login`, the OAuth callback, sign-out, and the client documents the
users' authorization servers fetch (client metadata, JWKS). The flow itself is
`plyr.auth.signin`; these handlers turn its outcomes into redirects, cookies and pages."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from plyr import ratelimit
from plyr.auth import oauth, signin
from plyr.auth.client import JWKS_PATH, METADATA_PATH, OAuthClient
from plyr.auth.sessions import COOKIE_NAME, end_session
from plyr.db.models import OAuthRequest, SessionKind
from plyr.runtime import Runtime
from plyr.web.shared.caller import CsrfDep, OptionalCaller
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.limits import client_address
from plyr.web.shared.templating import render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


def safe_next(value: str | None) -> str:
    """Only paths on this site (no `//host`, no schemes) are followed after sign-in."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value[:512]
    return "/"


def login_page(
    request: Request,
    *,
    error: str | None = None,
    handle: str = "",
    next_path: str = "/",
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "login.html",
        {"error": error, "handle": handle, "next": next_path, "title": "sign in"},
        status_code=status,
    )


@router.get("/login", response_class=HTMLResponse)
async def login_form(
    request: Request,
    caller: OptionalCaller,
    next_path: Annotated[str | None, Query(alias="next")] = None,
) -> Response:
    if caller is not None:
        return RedirectResponse(safe_next(next_path), status_code=303)
    return login_page(request, next_path=safe_next(next_path))


@router.post("/login")
async def login_submit(
    request: Request,
    runtime: RuntimeDep,
    _csrf: CsrfDep,
    handle: Annotated[str, Form(max_length=2048)] = "",
    next_path: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    handle = handle.strip()
    next_path = safe_next(next_path)
    if not handle:
        return login_page(
            request,
            error="enter your handle, e.g. alice.bsky.social",
            next_path=next_path,
            status=400,
        )
    verdict = await ratelimit.hit(
        runtime,
        f"sign-in:ip:{client_address(request)}",
        limit=runtime.settings.rate_limit_sign_in_per_minute,
        window_seconds=60,
    )
    if not verdict.allowed:
        response = login_page(
            request,
            error=f"too many sign-in attempts; try again in {verdict.retry_after} s",
            handle=handle,
            next_path=next_path,
            status=429,
        )
        response.headers["Retry-After"] = str(verdict.retry_after)
        return response
    try:
        url = await signin.begin(runtime, identifier=handle, purpose="login", return_to=next_path)
    except oauth.OAuthError as exc:
        status = 502 if exc.code in {"server_unreachable", "server_misconfigured"} else 400
        return login_page(
            request, error=exc.message, handle=handle, next_path=next_path, status=status
        )
    return RedirectResponse(url, status_code=303)


def _set_cookie(response: Response, runtime: Runtime, secret: str) -> None:
    response.set_cookie(
        COOKIE_NAME,
        secret,
        max_age=int(OAuthClient(runtime.settings).session_lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=runtime.settings.public_url.startswith("https://"),
        path="/",
    )


def _failure(request: Request, pending: OAuthRequest | None, message: str) -> Response:
    if pending is not None and pending.purpose in {"upgrade", "dev_token"}:
        # Back to where the upgrade started, without its query (`?share=…` would start
        # the same upgrade again).
        back = safe_next(pending.return_to).split("?", 1)[0] if pending.return_to else "/settings"
        return render(
            request,
            "notice.html",
            {"title": "not changed", "message": message, "back": back},
            status_code=400,
        )
    return login_page(request, error=message, status=400)


@router.get("/oauth/callback")
async def callback(
    request: Request,
    runtime: RuntimeDep,
    caller: OptionalCaller,
    state: str = "",
    code: str | None = None,
    iss: str | None = None,
    error: str | None = None,
) -> Response:
    pending = await signin.take_request(runtime, state)
    if pending is None:
        return _failure(request, None, "this sign-in link has expired or was already used")
    try:
        done = await signin.finish(runtime, pending, code=code, iss=iss, error=error)
    except signin.PermissionSetIgnored:
        # The server granted less than plyr's permission set holds: ask once more for the
        # collections one by one (the user sees a second consent page).
        try:
            url = await signin.restart_without_set(runtime, pending)
        except oauth.OAuthError as exc:
            return _failure(request, pending, exc.message)
        return RedirectResponse(url, status_code=303)
    except signin.SignInFailed as exc:
        return _failure(request, pending, exc.message)
    did = done.tokens.sub

    if pending.purpose == "login":
        secret = await signin.start_session(runtime, done)
        if caller is not None and caller.via == "cookie":
            await end_session(runtime, caller.session.id)
        response: Response = RedirectResponse(safe_next(pending.return_to), status_code=303)
        _set_cookie(response, runtime, secret)
        log.info("signed in", extra={"did": did})
        return response

    # Upgrades and developer tokens act for the browser session that asked for them.
    owner = await signin.requesting_session(runtime, pending)
    if owner is None or owner.did != did:
        return _failure(request, pending, "that authorization was for a different account")

    if pending.purpose == "upgrade":
        secret = await signin.start_session(runtime, done)
        await end_session(runtime, owner.id)
        response = RedirectResponse(_after_upgrade(runtime, pending, owner.scope, done), 303)
        _set_cookie(response, runtime, secret)
        return response

    # purpose == "dev_token"
    days = pending.token_days
    secret = await signin.start_session(
        runtime,
        done,
        kind=SessionKind.dev_token,
        name=pending.token_name,
        lifetime=timedelta(days=days) if days else None,
    )
    response = render(
        request,
        "token_created.html",
        {"title": "your new token", "token": secret, "name": pending.token_name, "days": days},
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _after_upgrade(
    runtime: Runtime, pending: OAuthRequest, old_scope: str, done: signin.Authorized
) -> str:
    """Where an upgrade goes back to: where it started (a track being shared), else the
    settings page saying what changed."""
    if pending.return_to:
        return safe_next(pending.return_to)
    before = signin.wants_of(runtime.settings, old_scope)
    after = signin.wants_of(runtime.settings, done.tokens.scope)
    if before.sharing != after.sharing and before.scrobbling == after.scrobbling:
        return f"/settings?done={'sharing-on' if after.sharing else 'sharing-off'}"
    return f"/settings?done={'scrobbling-on' if after.scrobbling else 'scrobbling-off'}"


@router.post("/logout")
async def logout(runtime: RuntimeDep, caller: OptionalCaller, _csrf: CsrfDep) -> Response:
    if caller is not None and caller.via == "cookie":
        await end_session(runtime, caller.session.id)
        log.info("signed out", extra={"did": caller.did})
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


@router.get(METADATA_PATH)
async def client_metadata(runtime: RuntimeDep) -> JSONResponse:
    return JSONResponse(OAuthClient(runtime.settings).metadata())


@router.get(JWKS_PATH)
async def client_jwks(runtime: RuntimeDep) -> JSONResponse:
    client = OAuthClient(runtime.settings)
    if not client.confidential:
        return JSONResponse({"keys": []})
    return JSONResponse(client.jwks())
