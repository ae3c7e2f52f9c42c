"""Starting, joining, leaving and ending jams; the host's controls and handing them over.

Every change reads the jam's row locked (`FOR UPDATE` on PostgreSQL; SQLite has one
writer), settles its timeline to now, changes it, bumps `version` and commits; then this
process's event streams are told (`hub.changed`) and the others notice the version.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.db.models import Jam, JamMember, utcnow
from plyr.db.text import storable
from plyr.errors import ServiceError
from plyr.listening.jams import hub
from plyr.listening.jams.state import (
    advance,
    duration_ms,
    listed_tracks,
    now_ms,
    position_at,
    settle,
)
from plyr.runtime import Runtime

MAX_QUEUE = 500
CODE_BYTES = 12  # 16 URL-safe characters: 96 random bits

Action = Literal["play", "pause", "seek", "next", "add"]


async def start(
    runtime: Runtime,
    did: str,
    track_ids: Sequence[int],
    *,
    position_ms: int = 0,
    playing: bool = True,
) -> str:
    """A new jam hosted by `did`, playing the first of `track_ids` (the rest follow) from
    `position_ms`; the tracks anyone may play are kept, the others dropped. Its code."""
    code = secrets.token_urlsafe(CODE_BYTES)
    async with runtime.sessions() as db:
        tracks = await listed_tracks(db, track_ids)
        ids = [track_id for track_id in dict.fromkeys(track_ids) if track_id in tracks]
        ids = ids[: MAX_QUEUE + 1]
        first = tracks[ids[0]] if ids else None
        length = duration_ms(first)
        db.add(
            Jam(
                code=code,
                host_did=did,
                track_id=first.id if first else None,
                position_ms=min(position_ms, length) if length and first else 0,
                anchor_ms=now_ms(),
                playing=playing and first is not None,
                queue=ids[1:],
                version=1,
            )
        )
        await db.flush()
        db.add(JamMember(jam_code=code, did=did))
        await db.commit()
    hub.changed(runtime, code)
    return code


async def _locked(db: AsyncSession, code: str) -> Jam:
    jam = await db.scalar(select(Jam).where(Jam.code == code).with_for_update())
    if jam is None:
        raise ServiceError(404, "not_found", "there is no such jam")
    if jam.ended_at is not None:
        raise ServiceError(409, "jam_ended", "this jam has ended")
    return jam


async def _settled(db: AsyncSession, jam: Jam) -> int:
    """Settle `jam` to now (the tracks that ended give way); now, server ms."""
    now = now_ms()
    settle(
        jam, await listed_tracks(db, [*([jam.track_id] if jam.track_id else []), *jam.queue]), now
    )
    return now


def _require_host(jam: Jam, did: str) -> None:
    if jam.host_did != did:
        raise ServiceError(403, "not_host", "only the jam's host controls it")


async def _commit(runtime: Runtime, db: AsyncSession, jam: Jam) -> None:
    jam.version = jam.version + 1
    await db.commit()
    hub.changed(runtime, jam.code)


async def join(runtime: Runtime, code: str, did: str) -> None:
    """`did` joins (again: nothing changes)."""
    async with runtime.sessions() as db:
        jam = await _locked(db, code)
        if await db.get(JamMember, (code, did)) is not None:
            return
        db.add(JamMember(jam_code=code, did=did))
        await _commit(runtime, db, jam)


async def leave(runtime: Runtime, code: str, did: str) -> None:
    """`did` leaves; a host leaving hands control to the earliest joined member left, or
    ends the jam when nobody is."""
    async with runtime.sessions() as db:
        jam = await _locked(db, code)
        gone = await db.execute(
            delete(JamMember).where(JamMember.jam_code == code, JamMember.did == did)
        )
        if not getattr(gone, "rowcount", 0) and jam.host_did != did:
            return
        if jam.host_did == did:
            heir = await db.scalar(
                select(JamMember.did)
                .where(JamMember.jam_code == code)
                .order_by(JamMember.joined_at, JamMember.did)
                .limit(1)
            )
            if heir is None:
                await _end(db, jam)
            else:
                jam.host_did = heir
        await _commit(runtime, db, jam)


async def _end(db: AsyncSession, jam: Jam) -> None:
    now = await _settled(db, jam)
    track = (await listed_tracks(db, [jam.track_id])).get(jam.track_id) if jam.track_id else None
    jam.position_ms = position_at(jam, duration_ms(track), now)
    jam.anchor_ms = now
    jam.playing = False
    jam.ended_at = utcnow()


async def end(runtime: Runtime, code: str, did: str) -> None:
    """The host ends the jam for everyone."""
    async with runtime.sessions() as db:
        jam = await _locked(db, code)
        _require_host(jam, did)
        await _end(db, jam)
        await _commit(runtime, db, jam)


async def hand_over(runtime: Runtime, code: str, did: str, to_did: str) -> None:
    """The host gives control to `to_did`, a member."""
    async with runtime.sessions() as db:
        jam = await _locked(db, code)
        _require_host(jam, did)
        if not storable(to_did) or await db.get(JamMember, (code, to_did)) is None:
            raise ServiceError(404, "not_found", "that listener is not in this jam")
        if to_did == did:
            return
        jam.host_did = to_did
        await _commit(runtime, db, jam)


async def control(
    runtime: Runtime,
    code: str,
    did: str,
    action: Action,
    *,
    position_ms: int | None = None,
    track_id: int | None = None,
    from_track_id: int | None = None,
) -> None:
    """The host plays, pauses, seeks (`position_ms`), skips to the next track (only when
    `from_track_id`, if given, still plays: a player's "my track ended" counts once) or
    adds `track_id` to the upcoming tracks."""
    async with runtime.sessions() as db:
        jam = await _locked(db, code)
        _require_host(jam, did)
        now = await _settled(db, jam)
        current = (
            (await listed_tracks(db, [jam.track_id])).get(jam.track_id) if jam.track_id else None
        )
        length = duration_ms(current)
        here = position_at(jam, length, now)
        if action == "play":
            if current is None and not jam.queue:
                raise ServiceError(409, "nothing_to_play", "add a track to the jam first")
            if current is None:
                advance(jam, now)
            else:
                jam.position_ms = 0 if length and here >= length else here
            jam.anchor_ms, jam.playing = now, True
        elif action == "pause":
            jam.position_ms, jam.anchor_ms, jam.playing = here, now, False
        elif action == "seek":
            if position_ms is None:
                raise ServiceError(422, "invalid", "a seek needs position_ms")
            jam.position_ms = min(position_ms, length) if length else position_ms
            jam.anchor_ms = now
        elif action == "next":
            if from_track_id is not None and from_track_id != jam.track_id:
                return  # already moved on (another tab's report, or the server's settling)
            playing = jam.playing
            advance(jam, now)
            jam.playing = playing and jam.track_id is not None
        else:
            await _add(db, jam, track_id)
        await _commit(runtime, db, jam)


async def _add(db: AsyncSession, jam: Jam, track_id: int | None) -> None:
    if track_id is None:
        raise ServiceError(422, "invalid", "adding needs track_id")
    if track_id not in await listed_tracks(db, [track_id]):
        raise ServiceError(404, "not_found", "there is no such track")
    if len(jam.queue or []) >= MAX_QUEUE:
        raise ServiceError(409, "queue_full", f"a jam holds {MAX_QUEUE} upcoming tracks at most")
    if jam.track_id is None:
        jam.track_id, jam.position_ms = track_id, 0
    else:
        jam.queue = [*(jam.queue or []), track_id]


async def active_jams(runtime: Runtime, did: str) -> list[str]:
    """The codes of the jams `did` is in and that have not ended, newest first."""
    async with runtime.sessions() as db:
        rows = await db.execute(
            select(Jam.code)
            .join(JamMember, JamMember.jam_code == Jam.code)
            .where(JamMember.did == did, Jam.ended_at.is_(None))
            .order_by(Jam.created_at.desc())
        )
        return list(rows.scalars())
