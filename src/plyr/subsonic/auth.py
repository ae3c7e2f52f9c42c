"""Who is calling: an API key (OpenSubsonic `apiKeyAuthentication`: a plyr developer token)
or a Subsonic app password (`u`+`p`, `u`+`t`+`s`), as the spec's error codes say:

- `apiKey` with any of `u`, `p`, `t`, `s`: 43 (conflicting mechanisms); so are `p` with
  `t`/`s`;
- an unknown, revoked or expired key, or a value that is no developer token: 44;
- a wrong user or password (or none set): 40, the same answer whichever was wrong;
- nothing at all, `u` alone, `t` without `s`: 10.

Failures are counted per address and per claimed user (a `u`, whether or not it exists),
`rate_limit_sign_in_per_minute` a minute each (HTTP 429, `Retry-After`, error 0):

- an address past it is refused before its credentials are looked at (a guesser gets no
  answer at all, right or wrong);
- a user past it gets 429 instead of 40 for wrong credentials, but the right ones still
  sign in: handles are public, so refusing them too would let anyone switch off a user's
  players with a few bad requests a minute, and a generated app password (about 99 bits)
  is out of reach of guessing however many addresses guess.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

from plyr.artists import get_artist
from plyr.auth import subsonic_passwords
from plyr.auth.sessions import TOKEN_PREFIX, find_session
from plyr.auth.subsonic_passwords import Throttle
from plyr.db.models import SessionKind
from plyr.runtime import Runtime
from plyr.subsonic.errors import Code, SubsonicError, missing
from plyr.subsonic.params import Params

LEGACY = ("u", "p", "t", "s")
WINDOW = 60
HELP_PATH = "/settings#subsonic-heading"


@dataclass(frozen=True, slots=True)
class Listener:
    """The signed-in user of a call. `session_id` is the developer token's session (its own
    OAuth grant) when the call came with an API key."""

    did: str
    handle: str
    via: Literal["api_key", "password"]
    session_id: str | None = None


def _throttle(runtime: Runtime) -> Throttle:
    return Throttle(runtime.settings.rate_limit_sign_in_per_minute, WINDOW)


def _help_url(runtime: Runtime) -> str:
    return runtime.settings.public_url.rstrip("/") + HELP_PATH


async def authenticate(runtime: Runtime, params: Params, address: str) -> Listener:
    from_address = f"subsonic:ip:{address}"
    api_key = params.get("apiKey")
    if api_key is not None:
        if any(params.has(name) for name in LEGACY):
            raise SubsonicError(
                Code.CONFLICTING_AUTH,
                "multiple conflicting authentication mechanisms: apiKey goes without u, p, t, s",
            )
        return await _guarded(runtime, from_address, None, partial(_by_api_key, runtime, api_key))
    username = params.get("u")
    if not username:
        raise missing("u (or apiKey)")
    password, token, salt = params.get("p"), params.get("t"), params.get("s")
    if password is not None and (token is not None or salt is not None):
        raise SubsonicError(
            Code.CONFLICTING_AUTH, "multiple conflicting authentication mechanisms: p, or t and s"
        )
    if password is None:
        if token is None:
            raise missing("t (or p)")
        if salt is None:
            raise missing("s")
    as_user = "subsonic:user:" + username.strip().removeprefix("@").lower()[:200]
    attempt = partial(_by_password, runtime, username, password, token, salt)
    return await _guarded(runtime, from_address, as_user, attempt)


def _throttled(retry_after: int) -> SubsonicError:
    return SubsonicError(
        Code.GENERIC,
        f"too many failed sign-ins; try again in {retry_after} s",
        status=429,
        headers={"Retry-After": str(retry_after)},
    )


async def _guarded(
    runtime: Runtime,
    from_address: str,
    as_user: str | None,
    attempt: Callable[[], Awaitable[Listener]],
) -> Listener:
    """Refuse an address past its failures before trying; count a failure in both buckets
    and, past the user's, answer it with 429."""
    throttle = _throttle(runtime)
    retry_after = await subsonic_passwords.refused_for(runtime, [from_address], throttle)
    if retry_after is not None:
        raise _throttled(retry_after)
    try:
        return await attempt()
    except SubsonicError:
        await subsonic_passwords.count_failure(runtime, from_address, throttle)
        if as_user is not None:
            over = await subsonic_passwords.count_failure(runtime, as_user, throttle)
            if over is not None:
                raise _throttled(over) from None
        raise


async def _by_api_key(runtime: Runtime, api_key: str) -> Listener:
    session = await find_session(runtime, api_key) if api_key.startswith(TOKEN_PREFIX) else None
    if session is None or session.kind != SessionKind.dev_token:
        raise SubsonicError(
            Code.INVALID_API_KEY,
            "invalid api key: it is unknown, revoked or expired",
            help_url=_help_url(runtime),
        )
    artist = await get_artist(runtime, session.did)
    return Listener(session.did, artist.handle if artist else session.did, "api_key", session.id)


async def _by_password(
    runtime: Runtime, username: str, p: str | None, t: str | None, s: str | None
) -> Listener:
    password = subsonic_passwords.decode_password(p) if p is not None else None
    user = None
    if p is None or password is not None:
        user = await subsonic_passwords.check_password(
            runtime, username, password=password, token=t, salt=s
        )
    if user is None:
        raise SubsonicError(
            Code.WRONG_CREDENTIALS, "wrong username or password", help_url=_help_url(runtime)
        )
    return Listener(user.did, user.handle, "password")
