"""What listeners may meet: the one rule every listing, search and feed applies.

A track an operator took down (`Track.taken_down_at`) and everything of an account an
operator hid (`Artist.hidden_at`) leave public views; the rows stay, so a reversal brings
them back unchanged. The clauses live here, below every domain package, so `tracks`,
`social`, `listening` and `search` filter with the same SQL instead of scattered checks.

A track indexed from the network whose audio is not here yet, or could not be used
(`Track.audio_state` other than "ready"), is left out too: nothing of it would play.

The hidden-account test is `artist_did NOT IN (hidden accounts)`, uncorrelated: evaluated
once per statement whatever the number of rows looked at, and the same SQL for every
listing (no N+1 from Python).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from plyr.db.models import Artist, Track
from plyr.errors import ServiceError

TAKEN_DOWN_MESSAGE = "this track is unavailable for legal reasons"
HIDDEN_MESSAGE = "this account's content is not available on plyr"

# `Track.audio_state`: the audio of a track from the network is fetched after indexing.
AUDIO_READY = "ready"  # playable (every uploaded track)
AUDIO_PENDING = "pending"  # being fetched from the record's blob or URL
AUDIO_UNPLAYABLE = "unplayable"  # could not be used; `Track.audio_error` says why
PENDING_MESSAGE = "this track's audio is still being fetched; try again in a moment"

# One named alias, made once: a fresh anonymous alias per statement would miss
# SQLAlchemy's compiled-statement cache every time.
_HIDDEN = aliased(Artist, name="hidden_artists")


def account_hidden(did_column: Any) -> ColumnElement[bool]:
    """True for rows whose account (`did_column`, e.g. `Comment.did`) an operator hid."""
    # Uncorrelated: the database reads the (few) hidden accounts once per statement, not
    # once per row, which keeps whole-table rankings (top tracks of all time) as cheap as
    # before. An alias of its own: in a query that already joins `artists`, the subquery's
    # table would otherwise be correlated away (leaving it no FROM).
    found: ColumnElement[bool] = did_column.in_(
        select(_HIDDEN.did).where(_HIDDEN.hidden_at.is_not(None))
    )
    return found


def account_listed(did_column: Any) -> ColumnElement[bool]:
    return ~account_hidden(did_column)


def track_listed() -> ColumnElement[bool]:
    """A track listeners may meet: its audio ready, not taken down, its account not hidden."""
    return and_(
        Track.audio_state == AUDIO_READY,
        Track.taken_down_at.is_(None),
        account_listed(Track.artist_did),
    )


def audio_problem(track: Track) -> str | None:
    """Why a (loaded) track can't be played for want of audio, or None when it can."""
    if track.audio_state == AUDIO_READY:
        return None
    if track.audio_state == AUDIO_PENDING:
        return PENDING_MESSAGE
    return f"this track can't be played: {track.audio_error or 'its audio could not be used'}"


def unavailable_reason(track: Track, artist: Artist | None) -> str | None:
    """Why a (loaded) track is out of public views, or None when it is not."""
    if track.taken_down_at is not None:
        reason = (track.takedown_reason or "").strip()
        return f"{TAKEN_DOWN_MESSAGE}: {reason}" if reason else TAKEN_DOWN_MESSAGE
    if artist is not None and artist.hidden_at is not None:
        return HIDDEN_MESSAGE
    return None


class Unavailable(ServiceError):
    """451: an operator took the track down or hid its account; the message says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(451, "unavailable_for_legal_reasons", reason)


async def require_listed(db: AsyncSession, track: Track, did: str) -> None:
    """Refuse a write naming a track listeners may not meet (a like, a comment, a list
    entry) with the 451 its read answers, unless `did` is its artist. Taking such a track
    back out (unlike, delete a comment, remove an entry) stays open to everyone."""
    if did == track.artist_did:
        return
    artist = await db.get(Artist, track.artist_did) if track.taken_down_at is None else None
    reason = unavailable_reason(track, artist)
    if reason is not None:
        raise Unavailable(reason)
