"""Who is asking: the session cookie or a developer token, and CSRF for cookie mutations.

Pages and the JSON API share these dependencies. A cookie is an ambient credential, so
every mutation made with one must carry the session's CSRF token (form field `csrf_token`
or header `X-CSRF-Token`); a bearer token is not ambient and needs none.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy import select

from plyr.auth.sessions import COOKIE_NAME, TOKEN_PREFIX, csrf_token, find_session
from plyr.db.models import Artist, AuthSession, Preferences
from plyr.errors import ServiceError as ApiError
from plyr.runtime import Runtime
from plyr.social import sensitive
from plyr.social.preferences import PreferencesView, preferences_view
from plyr.web.shared.deps import RuntimeDep

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(Exception):
    """Raised for pages: the error handler redirects browsers to /login."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


@dataclass(frozen=True, slots=True)
class Caller:
    session: AuthSession
    via: Literal["cookie", "token"]
    handle: str
    display_name: str | None
    # The caller's saved preferences (defaults when none), loaded with the artist row.
    preferences: PreferencesView | None = None

    @property
    def did(self) -> str:
        return self.session.did


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def current_caller(request: Request, runtime: RuntimeDep) -> Caller | None:
    if hasattr(request.state, "caller"):
        cached: Caller | None = request.state.caller
        return cached
    caller: Caller | None = None
    token = _bearer(request)
    if token is not None:
        if not token.startswith(TOKEN_PREFIX):
            raise ApiError(401, "invalid_token", "that is not a plyr developer token")
        session = await find_session(runtime, token)
        if session is None:
            raise ApiError(401, "invalid_token", "this token is unknown, revoked or expired")
        caller = await _caller(runtime, session, "token")
    else:
        cookie = request.cookies.get(COOKIE_NAME)
        if cookie:
            session = await find_session(runtime, cookie)
            if session is not None:
                caller = await _caller(runtime, session, "cookie")
    request.state.caller = caller
    request.state.prefs = caller.preferences if caller is not None else None
    # Pages that show artwork ask the sensitive-image snapshot; keep it fresh (cheap when it is).
    await sensitive.refresh_if_stale(runtime)
    return caller


async def _caller(
    runtime: Runtime, session: AuthSession, via: Literal["cookie", "token"]
) -> Caller:
    async with runtime.sessions() as db:
        found = (
            await db.execute(
                select(Artist, Preferences)
                .outerjoin(Preferences, Preferences.did == Artist.did)
                .where(Artist.did == session.did)
            )
        ).first()
    artist, saved = (found[0], found[1]) if found is not None else (None, None)
    handle = artist.handle if artist else session.did
    return Caller(
        session,
        via,
        handle,
        artist.display_name if artist else None,
        preferences_view(saved),
    )


OptionalCaller = Annotated[Caller | None, Depends(current_caller)]


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get(
        "accept", ""
    )


async def require_caller(request: Request, caller: OptionalCaller) -> Caller:
    if caller is None:
        if _wants_html(request):
            raise SignInRequired(request.url.path)
        raise ApiError(401, "sign_in_required", "sign in first (or send a developer token)")
    return caller


async def require_browser(request: Request, caller: OptionalCaller) -> Caller:
    """Pages that manage the account itself: a browser session, not a token."""
    caller = await require_caller(request, caller)
    if caller.via != "cookie":
        raise ApiError(403, "browser_only", "this needs a signed-in browser, not a token")
    return caller


def csrf_for(runtime: Runtime, caller: Caller | None) -> str:
    return csrf_token(runtime.settings.secret_key_bytes(), caller.session.id) if caller else ""


def _same_origin(request: Request, runtime: Runtime) -> bool:
    """For mutations without a session (sign-in): refuse requests from other sites."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        return False
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True  # non-browser clients; nothing ambient to abuse
    ours = urlsplit(runtime.settings.public_url)
    theirs = urlsplit(origin)
    return (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc) or (
        theirs.hostname in {"127.0.0.1", "localhost"}
        and ours.hostname in {"127.0.0.1", "localhost"}
    )


async def check_csrf(request: Request, runtime: RuntimeDep, caller: OptionalCaller) -> None:
    """Dependency for every mutation."""
    if caller is not None and caller.via == "token":
        return
    if caller is None:
        if not _same_origin(request, runtime):
            raise ApiError(403, "cross_site", "requests from other sites are refused")
        return
    sent = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if sent is None and content_type.startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    elif sent is None and content_type.startswith("multipart/form-data"):
        # Uploads stream their body to disk (plyr.web.shared.form_stream): reading it here would
        # buffer it, so multipart forms carry the token in the query string instead.
        sent = request.query_params.get(CSRF_FIELD)
    if not sent or not hmac.compare_digest(sent, csrf_for(runtime, caller)):
        raise ApiError(403, "csrf_failed", "this form has expired; reload the page and try again")


CallerDep = Annotated[Caller, Depends(require_caller)]
BrowserDep = Annotated[Caller, Depends(require_browser)]
CsrfDep = Annotated[None, Depends(check_csrf)]
