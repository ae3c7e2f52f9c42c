"""A call's parameters: the query string and, for a form POST (OpenSubsonic's `formPost`:
`application/x-www-form-urlencoded`), the body, merged (query first). Clients put the
credentials in the body to keep them out of URLs and logs, and long id lists there to stay
under URL limits. Other bodies are ignored; one past `MAX_BODY` is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from fastapi import Request

from plyr.subsonic.errors import Code, SubsonicError, missing

MAX_BODY = 1024 * 1024  # a playlist of thousands of ids fits
MAX_FIELDS = 10_000
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class Params:
    pairs: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str | None:
        return next((value for key, value in self.pairs if key == name), None)

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None or value == "":
            raise missing(name)
        return value

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.pairs)

    def flag(self, name: str, default: bool | None = None) -> bool | None:
        """A boolean: true/false (any case) or 1/0; `default` when absent or empty."""
        value = (self.get(name) or "").strip().lower()
        if not value:
            return default
        if value in ("true", "1"):
            return True
        if value in ("false", "0"):
            return False
        raise SubsonicError(Code.GENERIC, f"{name} is true or false, not {value[:20]!r}")


def _parse(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError as exc:
        raise SubsonicError(Code.GENERIC, f"too many parameters (at most {MAX_FIELDS})") from exc


async def read_params(request: Request) -> Params:
    pairs = _parse(request.url.query)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method == "POST" and content_type == FORM:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                raise SubsonicError(
                    Code.GENERIC, f"the form is too large (at most {MAX_BODY} bytes)", status=413
                )
        pairs += _parse(body.decode("utf-8", errors="replace"))
    return Params(tuple(pairs))
