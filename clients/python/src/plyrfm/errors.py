"""Every failure the SDK raises is a `PlyrError`: one typed class per kind of failure, each
with a message that fits on one line (`str(err)`), the HTTP status, plyr's stable error
code and the request id to quote when reporting a problem. Never a raw httpx error.

`error_from_response` turns an HTTP answer (plyr's `{"error": {...}}` shape, or anything a
proxy sends instead) into the right class."""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any


def one_line(text: str, limit: int = 500) -> str:
    """Collapse whitespace (newlines included) so a message prints as a single line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class PlyrError(Exception):
    """Base of every error the SDK raises."""

    label = "plyr error"  # the prefix of the one-line message

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.message = one_line(message)
        self.status = status
        self.code = code
        self.request_id = request_id
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class NotSignedIn(PlyrError):
    """No token is configured for a call that needs one (no request was made)."""

    label = "not signed in"


class AuthenticationError(PlyrError):
    """401: the token is unknown, revoked or expired."""

    label = "authentication failed"


class PermissionDenied(PlyrError):
    """403: not yours, or not allowed."""

    label = "not allowed"


class NotFound(PlyrError):
    """404: there is no such thing, or you may not see it."""

    label = "not found"


class Conflict(PlyrError):
    """409: conflicts with the current state (e.g. the track is not playable yet)."""

    label = "conflict"


class Gone(PlyrError):
    """410: it existed but is gone (e.g. an expired export link)."""

    label = "gone"


class InvalidRequest(PlyrError):
    """400, 413, 415, 422: bad input (not audio, too big, a bad field)."""

    label = "invalid request"


class RateLimited(PlyrError):
    """429 after the retries were used up; `retry_after` says how long to wait (seconds)."""

    label = "rate limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class Unavailable(PlyrError):
    """451: an operator took it down or hid its account."""

    label = "unavailable"


class ServerError(PlyrError):
    """5xx (after retrying 503s), or an answer the SDK cannot read."""

    label = "server error"


class ServerUnreachable(PlyrError):
    """No answer: connection refused, DNS failure, or a timeout, after the retries."""

    label = "unreachable"


class UploadFailed(PlyrError):
    """The server accepted the file but processing or publishing it failed."""

    label = "upload failed"


_BY_STATUS: dict[int, type[PlyrError]] = {
    400: InvalidRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    410: Gone,
    413: InvalidRequest,
    415: InvalidRequest,
    422: InvalidRequest,
    429: RateLimited,
    451: Unavailable,
}


def error_class(status: int) -> type[PlyrError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else PlyrError


def _validation_detail(details: Any) -> str:
    """The first validation problem as `field: why` (plyr's `details`, FastAPI's `loc`)."""
    if not isinstance(details, list) or not details or not isinstance(details[0], dict):
        return ""
    first = details[0]
    loc = first.get("loc") or first.get("field") or ()
    where = (
        ".".join(str(p) for p in loc if p not in ("body", "query", "path"))
        if isinstance(loc, list | tuple)
        else str(loc)
    )
    why = str(first.get("msg") or first.get("message") or "")
    return f"{where}: {why}" if where else why


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    retry_after: float | None = None,
) -> PlyrError:
    """The typed error for an HTTP error answer. Reads plyr's ErrorOut
    (`{"error": {"code", "message", "request_id", "details"}}`); anything else (a proxy's
    HTML page, plain text) still gives a one-line message from the status."""
    cls = error_class(status)
    code: str | None = None
    message = ""
    request_id = headers.get("x-request-id")
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        code = str(error["code"]) if error.get("code") else None
        message = str(error.get("message") or "")
        request_id = str(error.get("request_id") or request_id or "") or None
        detail = _validation_detail(error.get("details"))
        if detail and detail not in message:
            message = f"{message} ({detail})" if message else detail
    elif isinstance(parsed, dict) and isinstance(parsed.get("detail"), str):
        message = parsed["detail"]
    elif body and not body.lstrip().startswith(b"<"):
        message = body[:300].decode("utf-8", "replace")
    if not message:
        try:
            message = HTTPStatus(status).phrase.lower()
        except ValueError:
            message = "no reason given"
    prefix = f"{cls.label} (HTTP {status})" if cls in (ServerError, PlyrError) else cls.label
    text = f"{prefix}: {message}"
    if cls is RateLimited:
        return RateLimited(
            text, retry_after=retry_after, status=status, code=code, request_id=request_id
        )
    return cls(text, status=status, code=code, request_id=request_id)
