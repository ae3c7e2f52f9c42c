"""What each signed-in listener's player says it is playing.

The player reports on play, pause, seek and track change and every ~15 s while playing;
each report upserts one `now_playing` row per listener and pushes `expires_at` on by
`now_playing_ttl_seconds`. Nothing lives in process memory, so any web process answers
for a report made to any other. A row past `expires_at` counts as nothing playing; expired
rows are deleted now and then by the processes that write reports.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.db.models import Artist, NowPlaying, PublishState, Track, utcnow
from plyr.db.text import storable
from plyr.db.visibility import account_listed, track_listed
from plyr.errors import ServiceError
from plyr.runtime import Runtime

# Expired rows are swept at most this often per process (reads ignore them anyway).
SWEEP_EVERY_SECONDS = 60.0
_last_sweep: dict[str, float] = {}


@dataclass(frozen=True)
class Playing:
    """A listener's current track and where in it they are (extrapolated when playing)."""

    did: str
    handle: str | None
    track: Track
    position_ms: int
    paused: bool
    updated_at: datetime
    expires_at: datetime


def _upsert(runtime: Runtime, values: dict[str, object]) -> object:
    dialect = postgresql if not runtime.settings.is_sqlite else sqlite
    statement = dialect.insert(NowPlaying).values(**values)
    changed = {key: statement.excluded[key] for key in values if key != "did"}
    return statement.on_conflict_do_update(index_elements=["did"], set_=changed)


async def report(
    runtime: Runtime,
    did: str,
    *,
    track_id: int,
    position_ms: int,
    paused: bool,
    lasting: timedelta | None = None,
) -> None:
    """Store what `did` plays now; the row counts until the TTL passes without a report
    (or `lasting`, for a player that reports once a track, such as a Subsonic one)."""
    now = utcnow()
    async with runtime.sessions() as db:
        track = await db.get(Track, track_id)
        hidden = track is not None and track.publish_state == PublishState.processing
        if track is None or (hidden and track.artist_did != did):
            raise ServiceError(404, "not_found", "there is no such track")
        if track.duration_seconds:
            position_ms = min(position_ms, track.duration_seconds * 1000)
        values: dict[str, object] = {
            "did": did,
            "track_id": track_id,
            "position_ms": position_ms,
            "paused": paused,
            "updated_at": now,
            "expires_at": now
            + (lasting or timedelta(seconds=runtime.settings.now_playing_ttl_seconds)),
        }
        await db.execute(_upsert(runtime, values))  # type: ignore[call-overload]
        await _sweep_now_and_then(runtime, db)
        await db.commit()


async def stop(runtime: Runtime, did: str) -> bool:
    """The player stopped (or the page closed): nothing plays for `did` any more."""
    async with runtime.sessions() as db:
        result = await db.execute(delete(NowPlaying).where(NowPlaying.did == did))
        await db.commit()
        return bool(getattr(result, "rowcount", 0))


async def _sweep_now_and_then(runtime: Runtime, db: AsyncSession) -> None:
    key = runtime.settings.effective_database_url
    now = time.monotonic()
    if now - _last_sweep.get(key, 0.0) < SWEEP_EVERY_SECONDS:
        return
    _last_sweep[key] = now
    await sweep(db)


async def sweep(db: AsyncSession) -> int:
    """Delete the rows that expired (uses ix_now_playing_expires_at); caller commits."""
    result = await db.execute(delete(NowPlaying).where(NowPlaying.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def extrapolated_position(row: NowPlaying, track: Track, now: datetime) -> int:
    position = row.position_ms
    if not row.paused:
        position += max(0, int((now - row.updated_at).total_seconds() * 1000))
    if track.duration_seconds:
        position = min(position, track.duration_seconds * 1000)
    return position


async def current(runtime: Runtime, did: str) -> Playing | None:
    """What `did` plays now, or None (nothing reported, stopped, or the report expired)."""
    if not storable(did):
        return None
    now = utcnow()
    async with runtime.sessions() as db:
        found = (
            await db.execute(
                select(NowPlaying, Track, Artist.handle)
                .join(Track, Track.id == NowPlaying.track_id)
                .outerjoin(Artist, Artist.did == NowPlaying.did)
                .where(NowPlaying.did == did, NowPlaying.expires_at > now)
                # A taken-down track, or a hidden listener, is nothing playing to others.
                .add_columns(and_(track_listed(), account_listed(NowPlaying.did)).label("listed"))
            )
        ).first()
        if found is None:
            return None
        row, track, handle, listed = found
        if track.publish_state == PublishState.processing or not listed:
            return None  # only its owner can play it; others see nothing
        db.expunge(track)
        return Playing(
            did=row.did,
            handle=handle,
            track=track,
            position_ms=extrapolated_position(row, track, now),
            paused=row.paused,
            updated_at=row.updated_at,
            expires_at=row.expires_at,
        )


async def current_by_handle(runtime: Runtime, handle: str) -> Playing | None:
    """As `current`, for the listener with this handle (None when plyr does not know it)."""
    key = handle.removeprefix("@").lower()
    if not storable(key):
        return None
    async with runtime.sessions() as db:
        did = await db.scalar(select(Artist.did).where(Artist.handle == key).limit(1))
    return await current(runtime, did) if did is not None else None


async def playing_now(runtime: Runtime, limit: int = 100) -> list[Playing]:
    """Every listener playing something now, the latest report first, as `current` shows
    each of them: no taken-down or processing track, no hidden listener."""
    now = utcnow()
    async with runtime.sessions() as db:
        rows = await db.execute(
            select(NowPlaying, Track, Artist.handle)
            .join(Track, Track.id == NowPlaying.track_id)
            .outerjoin(Artist, Artist.did == NowPlaying.did)
            .where(
                NowPlaying.expires_at > now,
                Track.publish_state != PublishState.processing,
                track_listed(),
                account_listed(NowPlaying.did),
            )
            .order_by(NowPlaying.updated_at.desc(), NowPlaying.did)
            .limit(limit)
        )
        found = [
            Playing(
                did=row.did,
                handle=handle,
                track=track,
                position_ms=extrapolated_position(row, track, now),
                paused=row.paused,
                updated_at=row.updated_at,
                expires_at=row.expires_at,
            )
            for row, track, handle in rows
        ]
        db.expunge_all()
        return found
