"""A jam as its members see it, read from the database, and the timeline's arithmetic.

While a jam plays, its position moves with the server's clock: `position_ms` at
`anchor_ms`. A track that has run past its end gives way to the next one (`settle`), so a
jam whose host has gone quiet still moves on; the host's player also says when its track
ended (`service.control(..., "next", from_track_id=…)`), which is the exact moment.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.db.models import Artist, Jam, JamMember, PublishState, Track
from plyr.db.visibility import track_listed
from plyr.errors import ServiceError
from plyr.runtime import Runtime

# A track whose player did not report its end moves on this long after its length.
END_GRACE_MS = 2000


def now_ms() -> int:
    """The server's clock, Unix milliseconds: what `anchor_ms` and the clock endpoint use."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class JamView:
    code: str
    host: Artist
    members: list[Artist]  # the host among them, earliest joined first
    track: Track | None
    queue: list[Track]  # upcoming, listed ones only
    position_ms: int
    anchor_ms: int
    playing: bool
    version: int
    ended: bool

    def is_member(self, did: str) -> bool:
        return any(member.did == did for member in self.members)


def position_at(jam: Jam, duration_ms: int | None, at_ms: int) -> int:
    """Where `jam` is at the server time `at_ms` (held at the track's end)."""
    position = jam.position_ms
    if jam.playing:
        position += max(0, at_ms - jam.anchor_ms)
    return min(position, duration_ms) if duration_ms else position


def duration_ms(track: Track | None) -> int | None:
    return track.duration_seconds * 1000 if track and track.duration_seconds else None


async def listed_tracks(db: AsyncSession, ids: Iterable[int]) -> dict[int, Track]:
    """The tracks of `ids` anyone may play: published or publishing, listed."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await db.execute(
        select(Track).where(
            Track.id.in_(wanted), Track.publish_state != PublishState.processing, track_listed()
        )
    )
    return {track.id: track for track in rows.scalars()}


def settle(jam: Jam, tracks: dict[int, Track], at_ms: int) -> bool:
    """Move a playing jam past the tracks that ended before `at_ms` (each END_GRACE_MS
    after its length); an unknown length never ends. True when something moved."""
    moved = False
    while jam.playing and jam.track_id is not None:
        length = duration_ms(tracks.get(jam.track_id))
        if length is None:
            break
        ends_at = jam.anchor_ms - jam.position_ms + length + END_GRACE_MS
        if at_ms < ends_at:
            break
        advance(jam, ends_at)
        moved = True
    return moved


def advance(jam: Jam, at_ms: int) -> None:
    """The next track from the start at `at_ms`; nothing left: stopped."""
    upcoming = list(jam.queue or [])
    jam.track_id = upcoming.pop(0) if upcoming else None
    jam.queue = upcoming
    jam.position_ms = 0
    jam.anchor_ms = at_ms
    if jam.track_id is None:
        jam.playing = False


async def read_jam(runtime: Runtime, code: str) -> JamView:
    """The jam with this code as it stands now (404 when there is none)."""
    async with runtime.sessions() as db:
        jam = await db.get(Jam, code)
        if jam is None:
            raise ServiceError(404, "not_found", "there is no such jam")
        db.expunge(jam)  # settled below for the view only; service functions store it
        rows = await db.execute(
            select(Artist)
            .join(JamMember, JamMember.did == Artist.did)
            .where(JamMember.jam_code == code)
            .order_by(JamMember.joined_at, Artist.did)
        )
        members = list(rows.scalars())
        host = next((m for m in members if m.did == jam.host_did), None)
        if host is None:
            host = await db.get(Artist, jam.host_did)
        tracks = await listed_tracks(db, [*([jam.track_id] if jam.track_id else []), *jam.queue])
    if host is None:  # the host's account is gone: the jam went with it (cascade)
        raise ServiceError(404, "not_found", "there is no such jam")
    if jam.ended_at is None:
        settle(jam, tracks, now_ms())
    track = tracks.get(jam.track_id) if jam.track_id is not None else None
    return JamView(
        code=jam.code,
        host=host,
        members=members,
        track=track,
        queue=[tracks[i] for i in jam.queue or [] if i in tracks],
        position_ms=jam.position_ms,
        anchor_ms=jam.anchor_ms,
        playing=jam.playing and track is not None and jam.ended_at is None,
        version=jam.version,
        ended=jam.ended_at is not None,
    )
