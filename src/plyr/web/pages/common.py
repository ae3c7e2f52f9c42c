"""What the page modules share: htmx and plain-form answers to a mutation (a partial and a
toast, or a redirect with a notice), safe back-links, clock times, and what track rows show
besides the track."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Row

from plyr.db.models import Track
from plyr.errors import ServiceError
from plyr.runtime import Runtime
from plyr.social import likes, preferences
from plyr.web.shared.caller import Caller

DEFAULT_HIDDEN_TAGS = list(preferences.DEFAULT_HIDDEN_TAGS)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def toast_header(message: str, *, failed: bool = False) -> dict[str, str]:
    """An `HX-Trigger` header that makes the page show a toast (toast.js listens)."""
    return {"HX-Trigger": json.dumps({"toast": {"message": message, "failed": failed}})}


def safe_back(value: str | None, fallback: str) -> str:
    """A same-site path to go back to (never another site)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return fallback


def with_notice(path: str, message: str, *, failed: bool = False) -> str:
    """The path with `?done=` (or `?failed=`) set to the message, for the toast region."""
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("done", "failed")]
    query.append(("failed" if failed else "done", message))
    return urlunsplit(("", "", parts.path, urlencode(query), parts.fragment))


def finish(
    request: Request,
    message: str,
    back: str,
    *,
    failed: bool = False,
    partial: Response | None = None,
) -> Response:
    """The answer to a mutation: a partial + toast for htmx, a redirect with a notice else."""
    if is_htmx(request):
        response = partial if partial is not None else Response(status_code=204)
        response.headers.update(toast_header(message, failed=failed))
        if failed and partial is None:
            response.headers["HX-Reswap"] = "none"
        return response
    return RedirectResponse(with_notice(back, message, failed=failed), status_code=303)


def clock(seconds: int | None) -> str:
    if not seconds:
        return "0:00"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def parse_position(value: str) -> int:
    """`m:ss`, `h:mm:ss` or seconds → milliseconds."""
    text = value.strip() or "0"
    try:
        parts = [float(p) for p in text.split(":")]
    except ValueError:
        raise ServiceError(422, "invalid_timestamp", "write the position as m:ss") from None
    if len(parts) > 3 or any(p < 0 for p in parts):
        raise ServiceError(422, "invalid_timestamp", "write the position as m:ss")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return int(seconds * 1000)


async def row_extras(
    runtime: Runtime, tracks: Iterable[Track | Row[Any]], caller: Caller | None
) -> dict[str, Any]:
    """What track rows show besides the track: like counts and the viewer's likes."""
    ids = [track.id for track in tracks]
    return {
        "like_counts": await likes.like_counts(runtime, ids),
        "liked_ids": await likes.is_liked(runtime, caller.did if caller else None, ids),
    }


async def hidden_tags_for(
    runtime: Runtime, caller: Caller | None, *, saved: bool = False
) -> list[str]:
    """Tags whose tracks the home page leaves out: the viewer's choice, else ["ai"]. The
    preferences read with the caller serve, unless `saved` asks for what is stored now."""
    if caller is None:
        return list(DEFAULT_HIDDEN_TAGS)
    if caller.preferences is not None and not saved:
        return list(caller.preferences.hidden_tags)
    return list((await preferences.get_preferences(runtime, caller.did)).hidden_tags)
