"""Indexing likes, comments, lists and profiles that arrive through the firehose (or from
`plyr backfill`).

Records written by another client are indexed like plyr's own; deletions remove them. A
record plyr wrote comes back too: it matches its row (same rkey and CID) and changes
nothing. A record left out (fails its lexicon, names a track plyr does not know, an author
that does not resolve) raises `RecordSkipped` with the reason, for the log and the
backfill's report. A row with a local change still on its way to the PDS (`pending`) is
left alone: the sync job will make the PDS match it. An event from a commit older than the
one that wrote the indexed version (by repo revision) is an echo arriving late and is
skipped: an album's first, still empty write must not empty the album its later writes
filled.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.artists import sync_artist
from plyr.atproto.firehose import RecordEvent
from plyr.atproto.lexicon import LexiconValidationError
from plyr.atproto.syntax import parse_datetime
from plyr.db.models import (
    Artist,
    Comment,
    Like,
    ListItem,
    ListType,
    MusicList,
    Profile,
    RecordState,
    SyncedRecord,
    Track,
    utcnow,
)
from plyr.ingest import RecordSkipped, record_handler
from plyr.runtime import Runtime
from plyr.social.list_rows import album_key


def _valid(runtime: Runtime, event: RecordEvent) -> dict[str, Any]:
    record = event.record or {}
    try:
        runtime.lexicons.validate_record(event.collection, record)
    except LexiconValidationError as exc:
        raise RecordSkipped(f"fails its lexicon: {exc}") from None
    return record


def _when(value: object) -> datetime:
    """The record's date, at the latest now: a date in the future must not pin a like or a
    comment to the top of a newest-first listing."""
    try:
        when = parse_datetime(str(value))
    except (TypeError, ValueError):
        return utcnow()
    return min(when, utcnow())


async def _ensure_artist(runtime: Runtime, db: AsyncSession, did: str) -> None:
    """The author must have a row; someone plyr never saw is looked up (DID document)."""
    if await db.get(Artist, did) is not None:
        return
    try:
        await sync_artist(runtime, did)
    except Exception as exc:  # an unresolvable DID: nothing to attach the record to
        raise RecordSkipped(f"cannot resolve the author {did}: {exc}") from None


async def _track_by_uri(db: AsyncSession, uri: object) -> Track | None:
    if not isinstance(uri, str):
        return None
    return await db.scalar(select(Track).where(Track.atproto_uri == uri))


async def _existing(
    db: AsyncSession, model: type[SyncedRecord], event: RecordEvent
) -> tuple[bool, Any]:
    """(skip, row): skip when a local change is pending (the sync job will overwrite the
    PDS) or when the row already holds this version (plyr's own write coming back)."""
    row = await db.scalar(select(model).where(model.did == event.did, model.rkey == event.rkey))
    if row is not None and (
        row.record_state == RecordState.pending
        or row.atproto_cid == event.cid
        or _older(event, row.atproto_rev)
    ):
        return True, row
    return False, row


def _older(event: RecordEvent, indexed_rev: str | None) -> bool:
    """The event comes from a commit at or before the one behind the indexed version."""
    return event.rev is not None and indexed_rev is not None and event.rev <= indexed_rev


def _published(row: SyncedRecord, event: RecordEvent) -> None:
    row.atproto_uri = event.uri
    row.atproto_cid = event.cid
    row.atproto_rev = event.rev
    row.record_state = RecordState.published
    row.record_error = None


async def _remove(db: AsyncSession, model: type[SyncedRecord], event: RecordEvent) -> None:
    newer_kept = (
        or_(model.atproto_rev.is_(None), model.atproto_rev < event.rev)
        if event.rev is not None
        else true()
    )
    await db.execute(
        delete(model).where(
            model.did == event.did,
            model.rkey == event.rkey,
            model.record_state != RecordState.pending,
            newer_kept,  # a late delete of a version plyr has since written again
        )
    )


async def _commit(db: AsyncSession, event: RecordEvent) -> None:
    try:
        await db.commit()
    except IntegrityError as exc:  # e.g. a second like of one track: the first one counts
        await db.rollback()
        raise _conflict(exc) from None


def _conflict(exc: IntegrityError) -> RecordSkipped:
    return RecordSkipped(f"conflicts with what is indexed ({exc.orig})")


# Fills in (or makes) the row for a valid record; raises RecordSkipped to leave it out.
Apply = Callable[[AsyncSession, RecordEvent, dict[str, Any], Any], Awaitable[SyncedRecord]]


def _indexes(
    name: str, model: type[SyncedRecord], *, only_rkey: str | None = None
) -> Callable[[Apply], Apply]:
    """Register the firehose indexer of `<namespace>.<name>`: deletions remove the row;
    a valid record by a known (or resolvable) author goes through `apply` unless a local
    change is pending or the row already holds this version (plyr's own echo, a late
    one: not worth a report). A record left out for a reason raises RecordSkipped."""

    def register(apply: Apply) -> Apply:
        @record_handler(name)
        async def handle(runtime: Runtime, event: RecordEvent) -> None:
            if only_rkey is not None and event.rkey != only_rkey:
                if event.action == "delete":
                    return
                raise RecordSkipped(f"its record key must be {only_rkey!r}")
            async with runtime.sessions() as db:
                if event.action == "delete":
                    await _remove(db, model, event)
                    await _commit(db, event)
                    return
                record = _valid(runtime, event)
                await _ensure_artist(runtime, db, event.did)
                skip, row = await _existing(db, model, event)
                if skip:
                    return
                try:
                    indexed = await apply(db, event, record, row)
                except IntegrityError as exc:  # a flush inside: e.g. a second liked list
                    await db.rollback()
                    raise _conflict(exc) from None
                _published(indexed, event)
                await _commit(db, event)

        return apply

    return register


@_indexes("like", Like)
async def index_like(
    db: AsyncSession, event: RecordEvent, record: dict[str, Any], like: Like | None
) -> Like:
    subject = record["subject"]
    track = await _track_by_uri(db, subject.get("uri"))
    if track is None:
        raise RecordSkipped(f"likes a track plyr does not know ({subject.get('uri')})")
    if like is None:
        like = Like(did=event.did, rkey=event.rkey, track_id=track.id, sync_version=1)
        db.add(like)
    like.track_id = track.id
    like.subject_cid = subject.get("cid")
    like.created_at = _when(record.get("createdAt"))
    return like


@_indexes("comment", Comment)
async def index_comment(
    db: AsyncSession, event: RecordEvent, record: dict[str, Any], comment: Comment | None
) -> Comment:
    subject = record["subject"]
    track = await _track_by_uri(db, subject.get("uri"))
    if track is None:
        raise RecordSkipped(f"comments on a track plyr does not know ({subject.get('uri')})")
    if comment is None:
        comment = Comment(did=event.did, rkey=event.rkey, track_id=track.id, sync_version=1)
        db.add(comment)
    comment.track_id = track.id
    comment.subject_cid = subject.get("cid")
    comment.text = str(record["text"])
    comment.timestamp_ms = int(record["timestampMs"])
    comment.created_at = _when(record.get("createdAt"))
    comment.updated_at = _when(record["updatedAt"]) if record.get("updatedAt") else None
    return comment


@_indexes("list", MusicList)
async def index_list(
    db: AsyncSession, event: RecordEvent, record: dict[str, Any], music_list: MusicList | None
) -> MusicList:
    try:
        list_type = ListType(str(record.get("listType") or "playlist"))
    except ValueError:
        list_type = ListType.playlist  # an unknown kind of list reads best as a playlist
    name = str(record.get("name") or "")[:256] or None
    if music_list is None:
        music_list = MusicList(did=event.did, rkey=event.rkey, list_type=list_type, sync_version=1)
        db.add(music_list)
    music_list.list_type = list_type
    music_list.name = name
    music_list.unique_key = {
        ListType.album: album_key(name or event.rkey),
        ListType.liked: "liked",
    }.get(list_type)
    music_list.created_at = _when(record.get("createdAt"))
    music_list.updated_at = _when(record.get("updatedAt") or record.get("createdAt"))
    # Now, not after the flush: a second UPDATE without updated_at would stamp it "now"
    # (its onupdate) instead of the record's time.
    _published(music_list, event)
    await db.flush()
    await db.execute(delete(ListItem).where(ListItem.list_id == music_list.id))
    for position, item in enumerate(record.get("items") or []):
        subject = item.get("subject") or {}
        track = await _track_by_uri(db, subject.get("uri"))
        db.add(
            ListItem(
                list_id=music_list.id,
                position=position,
                subject_uri=str(subject.get("uri")),
                subject_cid=subject.get("cid"),
                track_id=track.id if track is not None else None,
            )
        )
    return music_list


@_indexes("actor.profile", Profile, only_rkey="self")
async def index_profile(
    db: AsyncSession, event: RecordEvent, record: dict[str, Any], profile: Profile | None
) -> Profile:
    if profile is None:
        profile = Profile(did=event.did, rkey="self", sync_version=1)
        db.add(profile)
    profile.bio = str(record.get("bio") or "") or None
    profile.created_at = _when(record.get("createdAt"))
    profile.updated_at = _when(record.get("updatedAt") or record.get("createdAt"))
    return profile
