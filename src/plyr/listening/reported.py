"""Plays a player reports after the fact (Subsonic's `scrobble`): it says "this track was
played at this time" instead of holding a listen token from `plays.start_listen`.

The web player's rules, as far as such a report allows:

- a play counts once: the listen is named by the listener, the track and the time it
  started, so a report sent again (players retry, and resend offline scrobbles) is the
  same listen and is not counted twice;
- one listener hears one thing at a time: a listen lasts its track's duration (at least
  the counting threshold), so a report whose listen would overlap another counted play of
  theirs is the same listening reported twice (a retry without a time) or made up, and is
  not counted;
- only tracks listeners may meet count (`playable_track`: not taken down, audio ready);
- only recent times count (`when_counted`): a report older than `MAX_AGE` (as Last.fm
  ignores scrobbles older than 14 days) or more than `CLOCK_SKEW` in the future is not
  counted; a time a little ahead (a player's clock) is taken as now.

What cannot be checked is how long the listener listened: the player's word that it
counts (it reports a submission only past its own threshold) is taken, and the play is
stored as heard for the threshold. A counted play scrobbles to teal.fm when the listener
turned it on, in the same transaction, as a play of the web player does
(`scrobble.enqueue_scrobble`). How many reports a listener may make over time is the
caller's budget (`plyr.subsonic.scrobbling`).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.db.models import Play, Track, utcnow
from plyr.listening import scrobble
from plyr.listening.plays import play_threshold_ms
from plyr.runtime import Runtime
from plyr.tracks.catalogue import playable_track

LISTEN_PREFIX = "reported:"
MAX_AGE = timedelta(days=14)
CLOCK_SKEW = timedelta(minutes=5)
# How far back a play may have started and still be playing (the longest track plyr takes
# is far shorter): plays before that cannot overlap a new one.
LONGEST_LISTEN = timedelta(hours=12)


def reported_listen_id(listener_did: str, track_id: int, started_at: datetime) -> str:
    """The one name of a reported listen (≤ 64 characters, `plays.listen_id`)."""
    moment = int(started_at.timestamp() * 1000)
    digest = hashlib.sha256(f"{listener_did}\n{track_id}\n{moment}".encode()).hexdigest()
    return LISTEN_PREFIX + digest[:48]


async def check_reportable(runtime: Runtime, track_id: int, listener_did: str) -> Track:
    """The track if a play of it may count (404, 451 or 409 otherwise)."""
    return await playable_track(runtime, track_id, listener_did)


def when_counted(started_at: datetime | None, now: datetime | None = None) -> datetime | None:
    """When a reported listen began, as counted: now when not said or a little ahead; None
    when it is too old or too far ahead to count."""
    now = now or utcnow()
    if started_at is None:
        return now
    started = started_at.astimezone(UTC)
    if started > now + CLOCK_SKEW or started < now - MAX_AGE:
        return None
    return min(started, now)


def _lasting(duration_seconds: int | None) -> timedelta:
    threshold = timedelta(milliseconds=play_threshold_ms(duration_seconds))
    return max(timedelta(seconds=duration_seconds or 0), threshold)


async def _overlaps(db: AsyncSession, listener_did: str, started: datetime, ends: datetime) -> bool:
    """Whether a counted play of the listener was playing at some moment of [started, ends)."""
    rows = await db.execute(
        select(Play.created_at, Track.duration_seconds)
        .join(Track, Track.id == Play.track_id)
        .where(
            Play.listener_did == listener_did,
            Play.created_at < ends,
            Play.created_at > started - LONGEST_LISTEN,
        )
    )
    for began, duration in rows:
        began = began if began.tzinfo else began.replace(tzinfo=UTC)
        if began + _lasting(duration) > started:
            return True
    return False


async def count_reported_play(
    runtime: Runtime, track: Track, listener_did: str, started_at: datetime | None = None
) -> bool:
    """Count a play of `track` (checked by `check_reportable`) the listener's player reports;
    False when it does not count (the same listen, another play of theirs at that moment,
    or a time out of `when_counted`'s range). `started_at` is when playback began (now when
    the player does not say)."""
    started = when_counted(started_at)
    if started is None:
        return False
    threshold = timedelta(milliseconds=play_threshold_ms(track.duration_seconds))
    listen_id = reported_listen_id(listener_did, track.id, started)
    async with runtime.sessions() as db:
        if await _overlaps(db, listener_did, started, started + _lasting(track.duration_seconds)):
            return False
        try:
            db.add(
                Play(
                    track_id=track.id,
                    listener_did=listener_did,
                    listen_id=listen_id,
                    listened_ms=int(threshold.total_seconds() * 1000),
                    created_at=started,
                )
            )
            await db.flush()
        except IntegrityError:  # the same listen, counted by a report racing this one
            await db.rollback()
            return False
        await db.execute(
            update(Track).where(Track.id == track.id).values(play_count=Track.play_count + 1)
        )
        await scrobble.enqueue_scrobble(
            db,
            runtime.settings,
            track_id=track.id,
            listener_did=listener_did,
            listen_id=listen_id,
            started_at=started.timestamp(),
        )
        await db.commit()
        return True
