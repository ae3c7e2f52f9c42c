"""The Subsonic error codes (Subsonic 1.16.1 and OpenSubsonic's 41 to 44) and the exception a
method raises to answer with one. An answer with an error is still a `subsonic-response`
(`status="failed"`) and, as Subsonic clients expect, HTTP 200, except where noted."""

from __future__ import annotations

import enum


class Code(enum.IntEnum):
    GENERIC = 0
    MISSING_PARAMETER = 10
    CLIENT_MUST_UPGRADE = 20
    SERVER_MUST_UPGRADE = 30
    WRONG_CREDENTIALS = 40
    TOKEN_AUTH_NOT_SUPPORTED = 41  # the spec's text says "for LDAP users"; it means any reason
    AUTH_MECHANISM_NOT_SUPPORTED = 42
    CONFLICTING_AUTH = 43
    INVALID_API_KEY = 44
    NOT_AUTHORIZED = 50
    TRIAL_OVER = 60  # Subsonic's licence; plyr never sends it
    NOT_FOUND = 70


class SubsonicError(Exception):
    """Answer with `<error code message/>`. `status` is the HTTP status (200 unless the
    failure is about HTTP itself: 404 for a method plyr does not have, 429 when throttled);
    `headers` go on the answer (`Retry-After`)."""

    def __init__(
        self,
        code: Code,
        message: str,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        help_url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.headers = headers or {}
        self.help_url = help_url


def missing(name: str) -> SubsonicError:
    return SubsonicError(Code.MISSING_PARAMETER, f"required parameter is missing: {name}")


def not_found(what: str) -> SubsonicError:
    return SubsonicError(Code.NOT_FOUND, f"{what} was not found")
