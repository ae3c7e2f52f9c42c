"""Errors: one stable JSON shape for the API, a friendly page for people.

API errors look like `{"error": {"code": "not_found", "message": "…", "request_id": "…"}}`,
with `details` for validation errors. The code is stable; the message is for humans.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from plyr.errors import ServiceError
from plyr.logs import request_id_var
from plyr.web.shared.caller import SignInRequired, current_caller
from plyr.web.shared.templating import render

log = logging.getLogger(__name__)


# Handlers raise the service layer's error directly; the name reads better in web code.
ApiError = ServiceError


def _code_for(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/") or request.url.path == "/health":
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
        return error_response(request, exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and message == "Not Found":
            message = "there is nothing at this address"
            if not wants_json(request):
                await _resolve_caller(request)
        return error_response(
            request,
            exc.status_code,
            _code_for(exc.status_code),
            message.lower(),
            headers=exc.headers,
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
        return error_response(
            request,
            500,
            "internal_error",
            "something went wrong on our side; it has been logged",
            headers={"x-request-id": request_id} if request_id else None,
        )
