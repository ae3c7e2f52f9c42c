"""Finding tracks: one track (for anyone, for its owner, for playing), an artist's tracks,
and keyset pages of published tracks, newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select

from plyr.db.models import PublishState, Track
from plyr.errors import ServiceError
from plyr.runtime import Runtime

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def get_track(runtime: Runtime, track_id: int) -> Track:
    async with runtime.sessions() as db:
        track = await db.get(Track, track_id)
        if track is None:
            raise ServiceError(404, "not_found", "there is no such track")
        db.expunge(track)
        return track


async def owned_track(runtime: Runtime, track_id: int, did: str) -> Track:
    track = await get_track(runtime, track_id)
    if track.artist_did != did:
        raise ServiceError(403, "forbidden", "only the artist can change this track")
    return track


async def playable_track(runtime: Runtime, track_id: int, viewer_did: str | None) -> Track:
    """A track anyone may play, or one still processing that the viewer owns."""
    track = await get_track(runtime, track_id)
    if track.publish_state == PublishState.processing and viewer_did != track.artist_did:
        raise ServiceError(404, "not_found", "there is no such track")
    return track


async def artist_tracks(runtime: Runtime, did: str, *, include_unpublished: bool) -> list[Track]:
    async with runtime.sessions() as db:
        query = select(Track).where(Track.artist_did == did)
        if not include_unpublished:
            query = query.where(Track.publish_state == PublishState.published)
        rows = await db.execute(query.order_by(Track.created_at.desc(), Track.id.desc()).limit(500))
        return list(rows.scalars())


# --- keyset pages of published tracks (newest first) ------------------------------------
#
# A page ends at a cursor naming its last track, `<created_at in µs since 1970>-<id>`; the
# next page is the tracks strictly after it in (created_at desc, id desc) order. Unlike
# OFFSET, the database starts at the cursor in the index, however deep the page.


def track_cursor(track: Track) -> str:
    micros = (track.created_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}-{track.id}"


def parse_track_cursor(value: str | None) -> tuple[datetime, int] | None:
    """The (created_at, id) a cursor names; None for no cursor or a malformed one."""
    if not value:
        return None
    micros, _, track_id = value.partition("-")
    if not (micros.isdigit() and track_id.isdigit()) or len(micros) > 18:
        return None
    return _EPOCH + timedelta(microseconds=int(micros)), int(track_id)


def published_tracks_query(did: str | None, before: tuple[datetime, int] | None) -> Select[Any]:
    """Published tracks (of one artist, or all), newest first, after the cursor if any."""
    query = select(Track).where(Track.publish_state == PublishState.published)
    if did is not None:
        query = query.where(Track.artist_did == did)
    if before is not None:
        created_at, track_id = before
        # The first condition is the index range; the second breaks ties on the same instant.
        query = query.where(
            Track.created_at <= created_at,
            or_(Track.created_at < created_at, Track.id < track_id),
        )
    return query.order_by(Track.created_at.desc(), Track.id.desc())


async def published_tracks_page(
    runtime: Runtime, did: str | None, *, before: str | None, limit: int
) -> tuple[list[Track], str | None]:
    """A page of published tracks and the cursor of the next page (None on the last)."""
    async with runtime.sessions() as db:
        query = published_tracks_query(did, parse_track_cursor(before)).limit(limit + 1)
        found = list((await db.execute(query)).scalars())
    more = len(found) > limit
    found = found[:limit]
    return found, (track_cursor(found[-1]) if more and found else None)


async def published_track_count(runtime: Runtime, did: str) -> int:
    """How many published tracks an artist has (an index-only count)."""
    async with runtime.sessions() as db:
        count = await db.scalar(
            select(func.count())
            .select_from(Track)
            .where(Track.artist_did == did, Track.publish_state == PublishState.published)
        )
        return int(count or 0)
