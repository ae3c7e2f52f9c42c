"""Errors: one stable JSON shape for the API, a friendly page for people.

API errors look like `{"error": {"code": "not_found", "message": "…", "request_id": "…"}}`,
with `details` for validation errors. The code is stable; the message is for humans.
`ErrorOut` is that shape for the OpenAPI; routes list the errors they answer with
`responses=error_responses(401, 404, …)`.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from plyr.errors import ServiceError
from plyr.logs import request_id_var
from plyr.web.shared.caller import SignInRequired, current_caller
from plyr.web.shared.examples import ERROR, INVALID, with_examples
from plyr.web.shared.security import security_headers
from plyr.web.shared.templating import render

log = logging.getLogger(__name__)


# Handlers raise the service layer's error directly; the name reads better in web code.
ApiError = ServiceError

# Addresses outside /api that answer JSON, errors included (oEmbed consumers parse them).
JSON_PATHS = frozenset({"/health", "/oembed"})


class ErrorDetail(BaseModel):
    model_config = with_examples(ERROR["error"], INVALID["error"])

    code: str = Field(description="stable, e.g. `not_found`, `csrf_failed`, `rate_limited`")
    message: str = Field(description="for people; may change")
    request_id: str | None = Field(description="quote it when reporting a problem")
    details: list[dict[str, Any]] | None = Field(
        default=None, description="validation errors: which field, and why"
    )


class ErrorOut(BaseModel):
    """Every error of the JSON API."""

    model_config = with_examples(ERROR, INVALID)

    error: ErrorDetail


ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "the body could not be read at all (not UTF-8, a broken form)",
    401: "not signed in, or the developer token is unknown, revoked or expired",
    403: "not allowed: not yours, or the CSRF token is missing or wrong",
    404: "there is no such thing, or you may not see it",
    409: "conflicts with the current state",
    413: "too large",
    415: "not a format plyr accepts",
    422: "the request is not valid (`details` says which field)",
    429: "too many requests; try again in a moment",
    451: "an operator took it down or hid its account (`message` says why)",
    501: "not implemented",
    503: "a service plyr depends on did not answer; nothing changed",
}


# Headers some error answers carry (a 429 says when to come back).
ERROR_HEADERS: dict[int, dict[str, Any]] = {
    429: {
        "Retry-After": {
            "description": "seconds until the limit lets this request through",
            "schema": {"type": "integer", "minimum": 0},
        }
    }
}


# A typical answer of each status for /api/docs (the `code` a client meets most there).
ERROR_EXAMPLES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "there was an error parsing the body"),
    401: ("invalid_token", "this token is unknown, revoked or expired"),
    403: ("forbidden", "only the artist can change this track"),
    404: ("not_found", "there is no such track"),
    409: ("audio_pending", "this track's audio is still being fetched; try again in a moment"),
    410: ("expired", "this export's link has expired; start a new one"),
    413: ("too_large", "the file is larger than 1.5 GB"),
    415: ("unsupported_format", "this is not an audio format we accept"),
    429: ("rate_limited", "too many requests; try again in 12 s"),
    451: ("unavailable_for_legal_reasons", "this track is unavailable for legal reasons: dmca"),
    501: ("not_implemented", "only format=json is offered"),
    503: ("pds_unreachable", "your pds could not be read, nothing was changed"),
}


def _example(status: int) -> dict[str, Any]:
    if status == 422 or status not in ERROR_EXAMPLES:
        return INVALID if status == 422 else ERROR
    code, message = ERROR_EXAMPLES[status]
    return {"error": {**ERROR["error"], "code": code, "message": message}}


def error_responses(
    *statuses: int, described: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` of a route's error answers, all in the `ErrorOut` shape;
    `described` replaces the generic description of a status where the route says more."""
    texts = {**ERROR_DESCRIPTIONS, **(described or {})}
    return {
        status: {
            "model": ErrorOut,
            "description": texts[status],
            "content": {"application/json": {"example": _example(status)}},
            **({"headers": ERROR_HEADERS[status]} if status in ERROR_HEADERS else {}),
        }
        for status in statuses
    }


def _code_for(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/") or request.url.path in JSON_PATHS:
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    request_id = getattr(request.state, "request_id", None)
    if wants_json(request):
        body: dict[str, Any] = {"code": code, "message": message, "request_id": request_id}
        if details:
            body["details"] = details
        return JSONResponse({"error": body}, status_code=status, headers=headers)
    # render() adds who is signed in (when known), so the header stays the same on errors.
    response = render(
        request,
        "error.html",
        {"status": status, "code": code, "message": message, "request_id": request_id},
        status_code=status,
    )
    response.headers.update(headers or {})
    return response


@functools.cache
def _path_regex(path: str) -> re.Pattern[str]:
    return compile_path(path)[0]


def _allowed_methods(request: Request, announced: str) -> str:
    """Starlette answers 405 with the methods of the first route whose path matched; a
    resource served by several routes (GET and PUT /api/queue) has them all, and RFC 9110
    wants every one in `Allow`. The resource is the first route template that matches (as
    routing picks it: `/api/tracks/top` before `/api/tracks/{track_id}`)."""
    announced_methods = {m.strip().upper() for m in announced.split(",") if m.strip()}
    routes = [
        (context.path, context.original_route)
        for context in iter_route_contexts(request.app.routes)
        if isinstance(context.original_route, APIRoute) and context.path
    ]
    template = next((p for p, _ in routes if _path_regex(p).match(request.url.path)), None)
    if template is None:
        return announced
    methods = {m for path, route in routes if path == template for m in route.methods or ()}
    # Keep a HEAD the matched route announced (the media routes answer HEAD themselves).
    methods |= announced_methods & {"HEAD"}
    return ", ".join(sorted(methods))


async def _resolve_caller(request: Request) -> None:
    """An unknown address runs no route, so nothing looked at the cookie yet: look now, so
    the 404 page shows the signed-in header (and never fails because of it)."""
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        return
    try:
        await current_caller(request, runtime)
    except Exception:
        request.state.caller = None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        return RedirectResponse(f"/login?{urlencode({'next': exc.next_path})}", status_code=303)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        # An error may carry headers of its own (web.shared.limits: a 429's Retry-After).
        headers: Mapping[str, str] | None = getattr(exc, "headers", None)
        return error_response(
            request, exc.status, exc.code, exc.message, exc.details, headers=headers
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and message == "Not Found":
            message = "there is nothing at this address"
            if not wants_json(request):
                await _resolve_caller(request)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request, headers.pop("Allow", ""))
        return error_response(
            request,
            exc.status_code,
            _code_for(exc.status_code),
            message.lower(),
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {"field": ".".join(str(part) for part in err["loc"]), "reason": err["msg"]}
            for err in exc.errors()
        ]
        return error_response(request, 422, "invalid_input", "the request is not valid", details)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Starlette runs this handler outside every middleware, after RequestIdMiddleware has
        # finished: put the request id back on the log line and on the response here.
        request_id = getattr(request.state, "request_id", None)
        token = request_id_var.set(request_id)
        try:
            log.exception("unhandled error on %s %s", request.method, request.url.path)
        finally:
            request_id_var.reset(token)
        # The security headers too: SecurityHeadersMiddleware never sees this response.
        headers = security_headers(request.app.state.settings, request.url.path)
        if request_id:
            headers["x-request-id"] = request_id
        return error_response(
            request,
            500,
            "internal_error",
            "something went wrong on our side; it has been logged",
            headers=headers,
        )
