"""Errors the service layer raises for expected failures; the web layer turns them into
responses (JSON for the API, a page for browsers) without knowing where they came from."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """An expected failure with an HTTP-like status and a stable code, e.g. 415
    `unsupported_format`; `message` is written for the user."""

    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
