"""Timed comments: `fm.plyr.comment` records pinned to a position in a track.

Only the author edits or deletes a comment; an artist can turn comments off for their
tracks (a preference); text is 1 to 1000 characters and must fit the lexicon.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from plyr.atproto.tid import next_tid
from plyr.db.models import Comment, Preferences, Track, utcnow
from plyr.db.text import require_storable
from plyr.db.visibility import account_listed, require_listed
from plyr.errors import ServiceError
from plyr.runtime import Runtime
from plyr.social import sync

MAX_TEXT = 1000


def clean_text(text: str | None) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise ServiceError(422, "invalid_text", "write something first")
    require_storable("text", cleaned)
    if len(cleaned) > MAX_TEXT or len(cleaned.encode()) > MAX_TEXT:
        raise ServiceError(422, "invalid_text", f"comments are at most {MAX_TEXT} characters")
    return cleaned


async def comments_allowed(runtime: Runtime, artist_did: str) -> bool:
    async with runtime.sessions() as db:
        allowed = await db.scalar(
            select(Preferences.allow_comments).where(Preferences.did == artist_did)
        )
        return allowed is None or bool(allowed)


def _check_position(track: Track, timestamp_ms: int) -> int:
    if timestamp_ms < 0:
        raise ServiceError(422, "invalid_timestamp", "the position must be 0 or more")
    if track.duration_seconds is not None and timestamp_ms > (track.duration_seconds + 1) * 1000:
        raise ServiceError(422, "invalid_timestamp", "the position is past the end of the track")
    return timestamp_ms


async def add_comment(
    runtime: Runtime,
    did: str,
    track_id: int,
    text: str,
    timestamp_ms: int,
    session_id: str | None = None,
) -> Comment:
    cleaned = clean_text(text)
    async with runtime.sessions() as db:
        track = await db.get(Track, track_id)
        if track is None:
            raise ServiceError(404, "not_found", "no such track")
        await require_listed(db, track, did)
        allowed = await db.scalar(
            select(Preferences.allow_comments).where(Preferences.did == track.artist_did)
        )
        if allowed is False:
            raise ServiceError(403, "comments_off", "the artist turned comments off")
        row = Comment(
            did=did,
            track_id=track_id,
            text=cleaned,
            timestamp_ms=_check_position(track, timestamp_ms),
            rkey=next_tid(),
        )
        db.add(row)
        await sync.changed(db, row, session_id)
        await db.commit()
        db.expunge(row)
        return row


async def _own_comment(db: AsyncSession, comment_id: int, did: str) -> Comment:
    row = await db.get(Comment, comment_id)
    if row is None:
        raise ServiceError(404, "not_found", "no such comment")
    if row.did != did:
        raise ServiceError(403, "forbidden", "only its author can change a comment")
    return row


async def edit_comment(
    runtime: Runtime, comment_id: int, did: str, text: str, session_id: str | None = None
) -> Comment:
    cleaned = clean_text(text)
    async with runtime.sessions() as db:
        row = await _own_comment(db, comment_id, did)
        row.text = cleaned
        row.updated_at = utcnow()
        await sync.changed(db, row, session_id)
        await db.commit()
        db.expunge(row)
        return row


async def delete_comment(
    runtime: Runtime, comment_id: int, did: str, session_id: str | None = None
) -> None:
    async with runtime.sessions() as db:
        row = await _own_comment(db, comment_id, did)
        rkey = row.rkey
        await db.delete(row)
        await sync.removed(db, "comment", did, rkey, session_id)
        await db.commit()


async def comments_on(runtime: Runtime, track_id: int, limit: int = 500) -> list[Comment]:
    """A track's comments in playback order (then oldest first), with their authors."""
    async with runtime.sessions() as db:
        rows = await db.execute(
            select(Comment)
            .options(selectinload(Comment.author))
            .where(Comment.track_id == track_id, account_listed(Comment.did))
            .order_by(Comment.timestamp_ms, Comment.created_at, Comment.id)
            .limit(limit)
        )
        found = list(rows.scalars())
        db.expunge_all()
        return found


async def comment_count(runtime: Runtime, track_id: int) -> int:
    async with runtime.sessions() as db:
        found = await db.scalar(
            select(func.count(Comment.id)).where(
                Comment.track_id == track_id, account_listed(Comment.did)
            )
        )
        return int(found or 0)
