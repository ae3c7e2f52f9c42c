"""`/rest/{method}` and `/rest/{method}.view`, GET or form POST: the one route of the
Subsonic surface. It reads the parameters, picks the format, checks the protocol version
and the client name, signs the caller in (unless the method is public) and runs the
method, turning every failure into a Subsonic error answer in the asked format.

A method plyr does not have (unknown, or not built yet) is HTTP 404 with error 0 in the
envelope: Navidrome answers plain-text 404/501 there, which Subsonic clients cannot parse.
"""

from __future__ import annotations

import logging
import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from plyr.errors import ServiceError
from plyr.runtime import Runtime
from plyr.subsonic import (  # noqa: F401 - they register their methods
    albums,
    browsing,
    extras,
    lists,
    lyrics,
    media,
    playlists,
    scrobbling,
    searching,
    starring,
    system,
    users,
)
from plyr.subsonic.answers import Format, answer, error_answer, parse_format
from plyr.subsonic.auth import authenticate
from plyr.subsonic.errors import Code, SubsonicError
from plyr.subsonic.params import Params, read_params
from plyr.subsonic.registry import METHODS, Call

log = logging.getLogger(__name__)

router = APIRouter()

SERVER_MAJOR, SERVER_MINOR = 1, 16
_VERSION = re.compile(r"(\d{1,4})\.(\d{1,4})(?:\.\d{1,4})?")
# A domain refusal by HTTP status: gone (410), taken down (409: the track is held) and
# unavailable for legal reasons (451: a hidden account) all read as "not found" (70).
SERVICE_CODES = {
    403: Code.NOT_AUTHORIZED,
    404: Code.NOT_FOUND,
    409: Code.NOT_FOUND,
    410: Code.NOT_FOUND,
    451: Code.NOT_FOUND,
}


def check_client(params: Params) -> None:
    """`v` (the client's protocol version) and `c` (its name) are required. A client newer
    than 1.16 or of another major version is told which side must upgrade."""
    version = params.require("v")
    params.require("c")
    found = _VERSION.fullmatch(version.strip())
    if found is None:
        raise SubsonicError(Code.GENERIC, "v is the protocol version, such as 1.16.1")
    major, minor = int(found[1]), int(found[2])
    if major < SERVER_MAJOR:
        raise SubsonicError(
            Code.CLIENT_MUST_UPGRADE, "incompatible protocol version: client must upgrade"
        )
    if (major, minor) > (SERVER_MAJOR, SERVER_MINOR):
        raise SubsonicError(
            Code.SERVER_MUST_UPGRADE,
            f"incompatible protocol version: plyr speaks {SERVER_MAJOR}.{SERVER_MINOR}.1",
        )


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.api_route("/rest/{name}", methods=["GET", "POST", "HEAD"], include_in_schema=False)
async def rest(request: Request, name: str) -> Response:
    runtime: Runtime = request.app.state.runtime
    asked = request.query_params.get("f")
    try:
        params = await read_params(request)
    except SubsonicError as exc:
        return error_answer("json" if asked == "json" else "xml", exc)
    requested = params.get("f")
    try:
        fmt: Format = parse_format(requested)
    except SubsonicError as exc:
        return error_answer("json" if requested == "jsonp" else "xml", exc)
    method = METHODS.get(name.removesuffix(".view"))
    if method is None:
        return error_answer(
            fmt, SubsonicError(Code.GENERIC, f"plyr has no method {name[:100]!r}", status=404)
        )
    try:
        caller = None
        if not method.public:
            check_client(params)
            caller = await authenticate(runtime, params, _address(request))
        payload = await method.handler(Call(runtime, params, caller, request))
    except SubsonicError as exc:
        return error_answer(fmt, exc)
    except ServiceError as exc:
        code = SERVICE_CODES.get(exc.status, Code.GENERIC)
        return error_answer(fmt, SubsonicError(code, exc.message))
    except Exception:
        log.exception("the subsonic method %s failed", method.name)
        return error_answer(fmt, SubsonicError(Code.GENERIC, "internal error", status=500))
    if isinstance(payload, Response):  # bytes (stream, getCoverArt…): sent as they are
        payload.headers["Access-Control-Allow-Origin"] = "*"
        return payload
    return answer(fmt, payload)
