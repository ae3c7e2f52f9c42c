"""Sign-in, the OAuth callback, sign-out, and the client documents servers fetch."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from joserfc.jwk import ECKey

from plyr import ratelimit
from plyr.artists import sync_artist
from plyr.atproto.identity import IdentityError
from plyr.auth import oauth
from plyr.auth.client import JWKS_PATH, METADATA_PATH, OAuthClient, scopes_for
from plyr.auth.encryption import SecretsUnreadable, open_sealed, seal
from plyr.auth.sessions import COOKIE_NAME, create_session, end_session
from plyr.db.models import AuthSession, OAuthRequest, SessionKind, utcnow
from plyr.runtime import Runtime
from plyr.web.auth import CsrfDep, OptionalCaller
from plyr.web.deps import RuntimeDep
from plyr.web.templating import render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

REQUEST_LIFETIME = timedelta(minutes=10)
TOKEN_DAYS = (30, 90, 180, 365)


def safe_next(value: str | None) -> str:
    """Only paths on this site (no `//host`, no schemes) are followed after sign-in."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value[:512]
    return "/"


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def begin(
    runtime: Runtime,
    *,
    identifier: str,
    purpose: str,
    scope: str,
    session_id: str | None = None,
    token_name: str | None = None,
    token_days: int | None = None,
    return_to: str | None = None,
) -> str:
    """Start an authorization and remember it; returns the URL to send the browser to."""
    client = OAuthClient(runtime.settings)
    started = await oauth.start(client, runtime.http, runtime.identity, identifier, scope)
    sealed = seal(
        runtime.settings.secret_key_bytes(),
        {"verifier": started.verifier, "dpop_key": started.dpop_key.as_dict(private=True)},
    )
    async with runtime.sessions() as db:
        db.add(
            OAuthRequest(
                state=started.state,
                purpose=purpose,
                issuer=started.server.issuer,
                expected_did=started.expected_did,
                scope=scope,
                secrets=sealed,
                session_id=session_id,
                token_name=token_name,
                token_days=token_days,
                return_to=return_to,
                expires_at=utcnow() + REQUEST_LIFETIME,
            )
        )
        await db.commit()
    return started.url


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
        url = await begin(
            runtime,
            identifier=handle,
            purpose="login",
            scope=scopes_for(runtime.settings, scrobbling=False),
            return_to=next_path,
        )
    except oauth.OAuthError as exc:
        status = 502 if exc.code in {"server_unreachable", "server_misconfigured"} else 400
        return login_page(
            request, error=exc.message, handle=handle, next_path=next_path, status=status
        )
    return RedirectResponse(url, status_code=303)


async def _take_request(runtime: Runtime, state: str) -> OAuthRequest | None:
    """Fetch and delete the pending request: a state works once, and not after it expires."""
    if not state or len(state) > 64:
        return None
    async with runtime.sessions() as db:
        pending = await db.get(OAuthRequest, state)
        if pending is None:
            return None
        await db.delete(pending)
        await db.commit()
        db.expunge(pending)
    if pending.expires_at <= utcnow():
        return None
    return pending


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
        return render(
            request,
            "notice.html",
            {"title": "not changed", "message": message, "back": "/settings"},
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
    pending = await _take_request(runtime, state)
    if pending is None:
        return _failure(request, None, "this sign-in link has expired or was already used")
    if error is not None:
        if error == "access_denied":
            return _failure(request, pending, "you did not authorize plyr, so nothing changed")
        return _failure(request, pending, f"the sign-in did not finish ({error[:60]})")
    if iss != pending.issuer:
        log.warning("callback with the wrong issuer", extra={"expected": pending.issuer})
        return _failure(request, pending, "the sign-in came back from the wrong server")
    if not code:
        return _failure(request, pending, "the sign-in came back without a code")
    try:
        held = open_sealed(runtime.settings.secret_key_bytes(), pending.secrets)
    except SecretsUnreadable:
        return _failure(request, pending, "this sign-in link has expired")
    client = OAuthClient(runtime.settings)
    dpop_key = ECKey.import_key(held["dpop_key"])
    try:
        server = await oauth.authorization_server(runtime.http, pending.issuer)
        tokens = await oauth.exchange_code(
            client,
            runtime.http,
            runtime.identity,
            server=server,
            code=code,
            verifier=held["verifier"],
            dpop_key=dpop_key,
            requested_scope=pending.scope,
            expected_did=pending.expected_did,
        )
        artist = await sync_artist(runtime, tokens.sub)
    except oauth.OAuthError as exc:
        return _failure(request, pending, exc.message)
    except IdentityError as exc:
        return _failure(request, pending, str(exc))

    async def browser_session() -> str:
        return await create_session(
            runtime,
            kind=SessionKind.browser,
            tokens=tokens,
            server=server,
            pds_url=artist.pds_url,
            dpop_key=dpop_key,
            lifetime=client.session_lifetime,
        )

    if pending.purpose == "login":
        secret = await browser_session()
        if caller is not None and caller.via == "cookie":
            await end_session(runtime, caller.session.id)
        response: Response = RedirectResponse(safe_next(pending.return_to), status_code=303)
        _set_cookie(response, runtime, secret)
        log.info("signed in", extra={"did": tokens.sub})
        return response

    # Upgrades and developer tokens act for the browser session that asked for them.
    owner = await _owner(runtime, pending)
    if owner is None or owner.did != tokens.sub:
        return _failure(request, pending, "that authorization was for a different account")

    if pending.purpose == "upgrade":
        secret = await browser_session()
        await end_session(runtime, owner.id)
        scrobbling = client_scrobbles(runtime, tokens.scope)
        response = RedirectResponse(
            f"/settings?done={'scrobbling-on' if scrobbling else 'scrobbling-off'}",
            status_code=303,
        )
        _set_cookie(response, runtime, secret)
        return response

    # purpose == "dev_token"
    days = pending.token_days
    secret = await create_session(
        runtime,
        kind=SessionKind.dev_token,
        tokens=tokens,
        server=server,
        pds_url=artist.pds_url,
        dpop_key=dpop_key,
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


def client_scrobbles(runtime: Runtime, scope: str) -> bool:
    granted = set(scope.split())
    wanted = set(scopes_for(runtime.settings, scrobbling=True).split()) - set(
        scopes_for(runtime.settings, scrobbling=False).split()
    )
    return wanted <= granted


async def _owner(runtime: Runtime, pending: OAuthRequest) -> AuthSession | None:
    if pending.session_id is None:
        return None
    async with runtime.sessions() as db:
        owner = await db.get(AuthSession, pending.session_id)
        if owner is not None:
            db.expunge(owner)
        return owner


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


def token_days_choice(value: str) -> int | None:
    if value == "never":
        return None
    days = int(value)
    if days not in TOKEN_DAYS:
        raise ValueError(value)
    return days
