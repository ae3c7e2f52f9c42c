"""What both clients resolve when they are made: the config (URL, token), the timeouts and
the retry policy, checked once."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from plyrfm.config import Config, load_config
from plyrfm.errors import InvalidRequest
from plyrfm.exchange import Context
from plyrfm.retry import RetryPolicy
from plyrfm.transport import Timeout


@dataclass(frozen=True)
class Connection:
    config: Config
    context: Context
    timeout: Timeout


def connection(
    url: str | None,
    token: str | None,
    *,
    timeout: float | Timeout | None,
    max_retries: int,
    backoff: float,
) -> Connection:
    config = load_config(url, token)
    if not _usable_url(config.url):
        raise InvalidRequest(
            f"invalid request: the plyr URL {config.url!r} should be http(s)://host[:port]"
        )
    if config.token is not None and not _usable_token(config.token):
        # Said without the token: httpx would refuse the header with its value in the
        # message, and that message would reach a terminal, a log or an AI model.
        raise InvalidRequest(
            "invalid request: the developer token holds characters a token cannot have "
            "(spaces, line breaks or non-ASCII): copy it again"
        )
    if max_retries < 0 or backoff < 0:
        raise ValueError("max_retries and backoff cannot be negative")
    policy = RetryPolicy(max_retries=max_retries, backoff=backoff)
    context = Context(base_url=config.url, signed_in=bool(config.token), policy=policy)
    return Connection(config, context, Timeout.of(timeout))


def _usable_url(url: str) -> bool:
    """An http(s) URL with a host and a valid port: caught here so a typo is one clear
    error instead of httpx's InvalidURL on the first request."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it raises ValueError for a port out of range
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _usable_token(token: str) -> bool:
    """Visible ASCII only: what an Authorization header can carry as it is."""
    return all("!" <= char <= "~" for char in token)
