"""Who writes a player's actions (stars, playlists) to the listener's PDS, and the budget of
writes they share with the web.

Likes and lists reach the PDS through `record.sync` jobs that act with a session of their
owner (`plyr.social.sync`). An API key is a developer token, its own OAuth grant: it writes
with that. An app password is no grant at all, so the user's newest live session (a browser
sign-in or a developer token) writes for it, as jobs do for a DID. With none, plyr could
keep the change in its index but never publish it: the action is refused instead, saying
how to fix it (sign in to plyr on the web once), and nothing changes.

Each record a call changes counts against the user's write budget (a `star` of 100 songs
is 100 likes, 100 PDS writes), and a call names at most `MAX_IDS` of them.
"""

from __future__ import annotations

from plyr import ratelimit
from plyr.auth.sessions import session_for
from plyr.subsonic.errors import Code, SubsonicError
from plyr.subsonic.registry import Call

SIGN_IN_PATH = "/login"
WRITE_WINDOW = 60
MAX_IDS = 500  # ids one call may change (as a list holds at most 500 entries)


def no_session(call: Call) -> SubsonicError:
    return SubsonicError(
        Code.NOT_AUTHORIZED,
        "plyr holds no sign-in of yours to write to your PDS with: sign in to plyr on the web "
        "once (your app password keeps working), then try again",
        help_url=call.runtime.settings.public_url.rstrip("/") + SIGN_IN_PATH,
    )


async def writing_session(call: Call) -> str:
    """The session whose grant writes this caller's records; error 50 when there is none."""
    listener = call.listener
    if listener.via == "api_key" and listener.session_id is not None:
        return listener.session_id
    session = await session_for(call.runtime, listener.did)
    if session is None:
        raise no_session(call)
    return session.id


def check_count(count: int, name: str = "id") -> None:
    """Error 0 for a call naming more than `MAX_IDS` records, before any work."""
    if count > MAX_IDS:
        raise SubsonicError(Code.GENERIC, f"at most {MAX_IDS} {name} values a call, not {count}")


async def count_write(call: Call, changes: int = 1) -> None:
    """`changes` writes against the user's budget of ordinary writes a minute, the web's own
    bucket (`write:did:…`): a player cannot go round the web's limit. Past it: HTTP 429,
    error 0, and the call changes nothing."""
    settings = call.runtime.settings
    verdict = await ratelimit.hit(
        call.runtime,
        f"write:did:{call.listener.did}",
        limit=settings.rate_limit_writes_per_minute,
        window_seconds=WRITE_WINDOW,
        cost=max(1, changes),
    )
    if not verdict.allowed:
        raise SubsonicError(
            Code.GENERIC,
            f"too many changes; try again in {verdict.retry_after} s",
            status=429,
            headers={"Retry-After": str(verdict.retry_after)},
        )


async def acting_session(call: Call, changes: int = 1) -> str:
    """For a method that changes `changes` records: the session to write with, the writes
    counted."""
    session_id = await writing_session(call)
    await count_write(call, changes)
    return session_id
