"""Writing to a user's PDS from a job: which failures a retry can fix, and how to say why.

Tracks, likes/comments/lists/profiles and scrobbles all write with the user's grant from a
durable job; they share this classification so every job fails (or retries) alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from plyr.atproto.lexicon import LexiconValidationError
from plyr.atproto.repo import CidMismatch
from plyr.atproto.xrpc import AuthenticationFailed, InvalidRequest, ScopeMissing, XrpcError
from plyr.auth.sessions import SessionEnded
from plyr.jobs.registry import PermanentJobError

# The PDS (or our own lexicon check) refused the record itself: the same write fails again.
REFUSED = (LexiconValidationError, InvalidRequest, ScopeMissing, CidMismatch)


def write_problem(exc: Exception) -> str:
    """What went wrong, for the user (kept on the row the job writes for)."""
    if isinstance(exc, SessionEnded):
        return "plyr has no valid sign-in for you: sign in again to publish"
    if isinstance(exc, XrpcError):
        return f"your pds did not accept the record ({exc.error}: {exc.message})"[:500]
    return f"publishing failed: {type(exc).__name__}: {exc}"[:500]


@asynccontextmanager
async def pds_writes() -> AsyncIterator[None]:
    """Refused records fail the job at once; a rejected grant retries as a lost session
    (the next attempt may find another session)."""
    try:
        yield
    except REFUSED as exc:
        raise PermanentJobError(
            write_problem(exc) if isinstance(exc, XrpcError) else str(exc)
        ) from exc
    except AuthenticationFailed as exc:
        raise SessionEnded(str(exc)) from exc
