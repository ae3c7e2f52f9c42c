"""The Jinja2 environment shared by every page, and `render`, which every page uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

import plyr
from plyr.auth.sessions import csrf_token

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.globals["plyr_version"] = plyr.__version__
# Whether artwork (a stored key or an external URL) is shown blurred to this viewer.
# TEMPORARY placeholder: the sensitive-artwork work replaces it (takes the image, returns bool).
templates.env.globals["hide_art"] = lambda *_args, **_kw: False


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """A page with what every page shows: who is signed in, and their CSRF token."""
    caller = getattr(request.state, "caller", None)
    csrf = ""
    runtime = getattr(request.app.state, "runtime", None)
    if caller is not None and runtime is not None:
        csrf = csrf_token(runtime.settings.secret_key_bytes(), caller.session.id)
    public_url = runtime.settings.public_url if runtime is not None else ""
    full = {"caller": caller, "csrf": csrf, "public_url": public_url, **(context or {})}
    return templates.TemplateResponse(request, name, full, status_code=status_code)
