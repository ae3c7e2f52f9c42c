"""The records plyr writes for likes, comments, lists and profiles, built from index rows.

Each builder returns the record's fields (the repo client adds `$type` and validates), or
None while a track the record points at has no record of its own yet.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.atproto.syntax import format_datetime
from plyr.db.models import Comment, Like, ListItem, MusicList, Profile, Track
from plyr.runtime import Runtime
from plyr.social.sync import record_kind


async def _track_ref(db: AsyncSession, track_id: int) -> dict[str, str] | None:
    row = (
        await db.execute(select(Track.atproto_uri, Track.atproto_cid).where(Track.id == track_id))
    ).one_or_none()
    if row is None or not row.atproto_uri or not row.atproto_cid:
        return None
    return {"uri": row.atproto_uri, "cid": row.atproto_cid}


async def _pinned_subject(db: AsyncSession, row: Like | Comment) -> dict[str, str] | None:
    """The strongRef of a like or comment: the track version it was first written against
    (kept in `subject_cid`), so rewrites do not move it to later edits."""
    ref = await _track_ref(db, row.track_id)
    if ref is None:
        return None
    if row.subject_cid is None:
        row.subject_cid = ref["cid"]
    return {"uri": ref["uri"], "cid": row.subject_cid}


@record_kind("like", Like)
async def like_record(db: AsyncSession, runtime: Runtime, row: Like) -> dict[str, Any] | None:
    subject = await _pinned_subject(db, row)
    if subject is None:
        return None
    return {"subject": subject, "createdAt": format_datetime(row.created_at)}


@record_kind("comment", Comment)
async def comment_record(db: AsyncSession, runtime: Runtime, row: Comment) -> dict[str, Any] | None:
    subject = await _pinned_subject(db, row)
    if subject is None:
        return None
    record: dict[str, Any] = {
        "subject": subject,
        "text": row.text,
        "timestampMs": row.timestamp_ms,
        "createdAt": format_datetime(row.created_at),
    }
    if row.updated_at is not None:
        record["updatedAt"] = format_datetime(row.updated_at)
    return record


async def list_items(db: AsyncSession, list_id: int) -> list[dict[str, Any]]:
    """The entries in order. A plyr track is written at its current version, and left out
    while it has no record yet (publishing it resyncs the list); a subject plyr does not
    index is kept as written."""
    rows = await db.execute(
        select(ListItem.subject_uri, ListItem.subject_cid, Track.atproto_uri, Track.atproto_cid)
        .outerjoin(Track, Track.id == ListItem.track_id)
        .where(ListItem.list_id == list_id)
        .order_by(ListItem.position, ListItem.id)
    )
    items: list[dict[str, Any]] = []
    for subject_uri, subject_cid, track_uri, track_cid in rows:
        if track_uri and track_cid:
            items.append({"subject": {"uri": track_uri, "cid": track_cid}})
        elif subject_cid and subject_uri.startswith("at://"):
            items.append({"subject": {"uri": subject_uri, "cid": subject_cid}})
    return items


@record_kind("list", MusicList)
async def list_record(db: AsyncSession, runtime: Runtime, row: MusicList) -> dict[str, Any] | None:
    record: dict[str, Any] = {
        "items": await list_items(db, row.id),
        "listType": row.list_type.value,
        "createdAt": format_datetime(row.created_at),
        "updatedAt": format_datetime(row.updated_at),
    }
    if row.name:
        record["name"] = row.name
    return record


@record_kind("actor.profile", Profile)
async def profile_record(db: AsyncSession, runtime: Runtime, row: Profile) -> dict[str, Any] | None:
    record: dict[str, Any] = {
        "createdAt": format_datetime(row.created_at),
        "updatedAt": format_datetime(row.updated_at),
    }
    if row.bio:
        record["bio"] = row.bio
    return record
