"""XRPC error answers: `{"error": <name>, "message": <one line>}` with a 4xx status."""

from __future__ import annotations

from fastapi.responses import JSONResponse


def xrpc_error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=status)


def invalid_request(message: str) -> JSONResponse:
    return xrpc_error(400, "InvalidRequest", message)
