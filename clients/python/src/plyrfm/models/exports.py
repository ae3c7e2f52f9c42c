"""Exports of everything of yours (a zip made in the background), and the error shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from plyrfm.models.base import PlyrModel


class Export(PlyrModel):
    """An export job: `status` is queued, running, ready, failed or expired;
    `download_url` is set while it is ready."""

    __schema__ = "ExportOut"

    id: str
    status: str
    progress: float
    files: int
    size_bytes: int | None
    error: str | None
    created_at: datetime
    expires_at: datetime | None
    download_url: str | None


class ErrorDetail(PlyrModel):
    """What went wrong: a stable `code`, a `message` for people, the request id."""

    __schema__ = "ErrorDetail"

    code: str
    message: str
    request_id: str | None
    details: list[dict[str, Any]] | None = None


class ErrorBody(PlyrModel):
    """Every error answer of the API (errors.py turns it into a PlyrError)."""

    __schema__ = "ErrorOut"

    error: ErrorDetail
