"""The Jinja2 environment shared by every page, and `render`, which every page uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

import plyr
from plyr.auth.sessions import csrf_token
from plyr.social import sensitive
from plyr.social.preferences import PreferencesView
from plyr.tracks import labels
from plyr.web.shared.operators import is_operator

# Templates and static files belong to the whole web layer: they live beside these packages.
WEB_DIR = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.globals["plyr_version"] = plyr.__version__


@pass_context
def hide_art(context: Context, *images: Any) -> bool:
    """Whether artwork is shown blurred to this viewer (and left out of link previews): any
    of `images` (a stored key, a URL, or a track/list with image fields) was flagged
    sensitive and the viewer has not opted in to seeing such artwork."""
    request = context.get("request")
    runtime = getattr(request.app.state, "runtime", None) if request is not None else None
    if runtime is None:
        return False
    sensitive.refresh_soon(runtime)
    if not sensitive.flagged_in_snapshot(runtime, *images):
        return False
    prefs = getattr(request.state, "prefs", None) if request is not None else None
    return not (prefs is not None and prefs.show_sensitive)


templates.env.globals["hide_art"] = hide_art

# `url_for` answers, per site address: every page asks for the same few static files, and
# each answer walks the routes and builds an absolute URL.
_URLS: dict[tuple[Any, ...], str] = {}
MAX_URLS = 1024


@pass_context
def url_for(context: Context, name: str, /, **path_params: Any) -> str:
    """Starlette's `url_for` (an absolute URL from the request's address), remembered."""
    request: Request = context["request"]
    scope = request.scope
    key = (
        name,
        tuple(sorted(path_params.items())),
        id(scope.get("app")),  # its routes
        scope.get("scheme"),
        scope.get("server"),
        scope.get("app_root_path", scope.get("root_path")),
        request.headers.get("host"),
    )
    found = _URLS.get(key)
    if found is None:
        if len(_URLS) >= MAX_URLS:
            _URLS.clear()
        found = _URLS[key] = str(request.url_for(name, **path_params))
    return found


templates.env.globals["url_for"] = url_for
# Content warnings (self-labels): the form's choices and what track rows and pages name.
templates.env.globals["content_warnings"] = labels.CONTENT_WARNINGS
templates.env.globals["warning_names"] = labels.names


def prefs_json(prefs: PreferencesView | None) -> str:
    """The caller's preferences as JSON for `<html data-prefs="…">` (autoescaped there);
    "" when signed out."""
    return json.dumps(prefs.as_dict(), separators=(",", ":")) if prefs is not None else ""


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """A page with what every page shows: who is signed in, their CSRF token, and their
    saved preferences (`prefs`: None for signed-out visitors, whose browser keeps them)."""
    caller = getattr(request.state, "caller", None)
    prefs = getattr(request.state, "prefs", None) if caller is not None else None
    csrf = ""
    runtime = getattr(request.app.state, "runtime", None)
    if caller is not None and runtime is not None:
        csrf = csrf_token(runtime.settings.secret_key_bytes(), caller.session.id)
    public_url = runtime.settings.public_url if runtime is not None else ""
    # The header links operators (PLYR_ADMIN_DIDS) to the moderation queue.
    operator = runtime is not None and is_operator(
        runtime.settings, caller.did if caller is not None else None
    )
    full = {
        "caller": caller,
        "is_operator": operator,
        "csrf": csrf,
        "public_url": public_url,
        "prefs": prefs,
        "prefs_json": prefs_json(prefs),
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, full, status_code=status_code)
