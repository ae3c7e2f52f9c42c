"""What the media routes (`routes.py`) take and answer, as the OpenAPI states it: the
request headers `serve_object` honours (Range, the conditional ones), the byte answers
(200, 206) with their media types, the answers without a body (304, 307, 412, 416), and
the errors.

Errors of these addresses are negotiated: `ErrorOut` JSON when the request's `Accept` asks
for JSON (`application/json` without `text/html`, as the `plyrfm` SDK sends), otherwise
the error page (`text/html`), or for the audio's 451 one line of `text/plain`, which is
what an `<audio>` element gets (`web.shared.errors.wants_json` decides). Nothing here runs
per request: it is only read when the document is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plyr.web.shared.errors import error_responses

Answers = dict[int | str, dict[str, Any]]

BINARY: dict[str, Any] = {"type": "string", "format": "binary"}
AUDIO_TYPES = ("audio/*", "application/octet-stream")
ARTWORK_TYPES = ("image/jpeg", "image/webp")
THUMBNAIL_TYPES = ("image/webp",)

JSON_OR_PAGE = "; `ErrorOut` when `Accept` asks for JSON, else the error page (HTML)"
JSON_OR_LINE = "; `ErrorOut` when `Accept` asks for JSON, else one line of plain text"


def _header(description: str, example: str, **schema: Any) -> dict[str, Any]:
    return {
        "in": "header",
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
        "example": example,
    }


# Plain strings, no pattern: a header plyr cannot read is ignored (the whole file), never
# refused, and the document says so rather than promise a 422.
REQUEST_HEADERS: list[dict[str, Any]] = [
    {
        "name": "Range",
        **_header(
            "one byte range: `bytes=0-1023`, `bytes=1024-` (to the end) or `bytes=-4096` (the "
            "last 4096 bytes); answered 206, or 416 when it starts past the end. Another "
            "unit or a malformed header is ignored (200, the whole file); several ranges "
            "are merged where they overlap or touch, and if more than one is left the "
            "whole file is sent (200)",
            "bytes=0-1048575",
        ),
    },
    {
        "name": "If-Range",
        **_header(
            "an `ETag` or `Last-Modified` from an earlier answer: the Range is honoured "
            "only while it still holds (else 200, the whole file)",
            '"5c2e0c1b7d9a4f3e8b6a1d2c-2d8e1f"',
        ),
    },
    {
        "name": "If-None-Match",
        **_header(
            "`ETag`s you hold (or `*`): 304 without a body when one matches",
            '"5c2e0c1b7d9a4f3e8b6a1d2c-2d8e1f"',
        ),
    },
    {
        "name": "If-Modified-Since",
        **_header(
            "an HTTP date: 304 when the file has not changed since (ignored with If-None-Match)",
            "Wed, 14 May 2025 07:31:12 GMT",
        ),
    },
    {
        "name": "If-Match",
        **_header(
            "`ETag`s (or `*`): 412 unless one matches strongly",
            '"5c2e0c1b7d9a4f3e8b6a1d2c-2d8e1f"',
        ),
    },
    {
        "name": "If-Unmodified-Since",
        **_header(
            "an HTTP date: 412 when the file changed after it (ignored with If-Match)",
            "Wed, 14 May 2025 07:31:12 GMT",
        ),
    },
]


def _described(description: str, **schema: Any) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string", **schema}}


ETAG = _described("the file's validator: keys are content hashes, so it never changes")
LAST_MODIFIED = _described("when the file was stored (an HTTP date)")
CACHE_CONTROL = _described("`public, max-age=31536000, immutable`: the address never changes")
ACCEPT_RANGES = _described("ranges of bytes may be asked for", enum=["bytes"])
CONTENT_LENGTH = {"description": "bytes in this answer", "schema": {"type": "integer"}}
TAKEN_DOWN = _described(
    "`1` when an operator hears a track they took down (only operators get its audio)",
    enum=["1"],
)
DISPOSITION = _described(
    'a download with the name plyr gives it: `attachment; filename="…"; '
    "filename*=UTF-8''…` (the artist and title, the original's extension)"
)
PARTIAL_RANGE = {
    "description": "the bytes sent and the file's size: `bytes 0-1023/2949120`",
    "required": True,
    "schema": {"type": "string", "pattern": r"^bytes \d+-\d+/\d+$"},
}
UNSATISFIED_RANGE = {
    "description": "the file's size: `bytes */2949120`",
    "required": True,
    "schema": {"type": "string", "pattern": r"^bytes \*/\d+$"},
}


def _bytes(media_types: tuple[str, ...]) -> dict[str, Any]:
    return {media: {"schema": BINARY} for media in media_types}


def byte_answers(
    media_types: tuple[str, ...],
    what: str,
    *,
    extra_headers: Mapping[str, dict[str, Any]] | None = None,
) -> Answers:
    """200 and 206 with the bytes, and the answers without a body `serve_object` gives."""
    headers = {
        "ETag": ETAG,
        "Last-Modified": LAST_MODIFIED,
        "Cache-Control": CACHE_CONTROL,
        "Accept-Ranges": ACCEPT_RANGES,
        "Content-Length": CONTENT_LENGTH,
        **(extra_headers or {}),
    }
    validators = {"ETag": ETAG, "Last-Modified": LAST_MODIFIED}
    return {
        200: {"description": what, "content": _bytes(media_types), "headers": headers},
        206: {
            "description": f"{what}: the range the `Range` header asked for",
            "content": _bytes(media_types),
            "headers": {**headers, "Content-Range": PARTIAL_RANGE},
        },
        304: {
            "description": "not modified: the `ETag` in `If-None-Match` still matches (or "
            "nothing changed since `If-Modified-Since`); no body",
            "headers": {**validators, "Cache-Control": CACHE_CONTROL},
        },
        307: {
            "description": "with S3 storage: the file's own address (presigned, or the "
            "public bucket); follow it, it answers ranges itself",
            "headers": {
                "Location": {**_described("where the file is", format="uri"), "required": True}
            },
        },
        412: {"description": "If-Match or If-Unmodified-Since did not hold; no body"},
        416: {
            "description": "no range asked for is in the file (one starts past its end, or "
            "`bytes=-0`); no body",
            "headers": {**validators, "Content-Range": UNSATISFIED_RANGE},
        },
    }


def media_errors(
    *statuses: int,
    plain: frozenset[int] = frozenset(),
    described: Mapping[int, str] | None = None,
) -> Answers:
    """`error_responses` for a media address: `ErrorOut` when JSON is asked for, else the
    error page, or one line of text for the statuses in `plain` (see the docstring)."""
    answers = error_responses(*statuses, described=described)
    for status, answer in answers.items():
        content = answer["content"]
        if status in plain:
            answer["description"] += JSON_OR_LINE
            message = content["application/json"]["example"]["error"]["message"]
            content["text/plain"] = {"schema": {"type": "string"}, "example": f"{message}\n"}
        else:
            answer["description"] += JSON_OR_PAGE
            content["text/html"] = {"schema": {"type": "string"}}
    return answers


# The statuses every media address may answer besides its own: a bad token, a bad id.
CALLER_AND_ID = (401, 422)
TRACK_ERRORS = {
    401: "the developer token sent is unknown, revoked or expired (signed out works)",
    404: "no such track (one still processing is its artist's alone), or its file is gone",
    451: "an operator took the track down or hid its artist's account (`message` says why)",
}
AUDIO_ERRORS = {
    **TRACK_ERRORS,
    409: "the track is there but its audio is not: still being fetched from the record's "
    "source (`audio_pending`), or it could not be used (`unplayable`)",
    451: "an operator took the track down or hid its artist's account (`message` says "
    "why): refused to everyone, its artist included, but the operators",
}


def audio_answers(what: str, *, download: bool = False) -> Answers:
    extra = {"X-Plyr-Taken-Down": TAKEN_DOWN}
    if download:
        extra["Content-Disposition"] = {**DISPOSITION, "required": True}
    return {
        **byte_answers(AUDIO_TYPES, what, extra_headers=extra),
        **media_errors(
            *CALLER_AND_ID, 404, 409, 451, plain=frozenset({451}), described=AUDIO_ERRORS
        ),
    }


def artwork_answers(
    what: str, media_types: tuple[str, ...], missing: str, *, hidden: str | None = None
) -> Answers:
    """A track's artwork or a list's cover: `missing` says what its 404 means, `hidden`
    its 451 where that is not the track's."""
    described = {**TRACK_ERRORS, 404: missing, **({451: hidden} if hidden else {})}
    return {
        **byte_answers(media_types, what),
        **media_errors(*CALLER_AND_ID, 404, 451, described=described),
    }
