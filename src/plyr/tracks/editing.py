"""What the owner of a track changes: its details, its artwork, a retry of a failed
publish, deleting it. Every change to a published track is a database change plus a
durable job, in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.db.models import Job, PublishState, Track, utcnow
from plyr.db.text import require_storable
from plyr.db.visibility import audio_problem
from plyr.errors import ServiceError
from plyr.jobs.queue import enqueue, retry_failed
from plyr.runtime import Runtime
from plyr.social import sync
from plyr.social.albums import file_under_album
from plyr.social.list_rows import lists_holding
from plyr.social.tags import normalise_tags, set_tags
from plyr.tracks import labels, lyrics
from plyr.tracks.catalogue import NotPlayable, owned_track
from plyr.tracks.queue import drop_tracks
from plyr.tracks.uploads import MAX_ALBUM, MAX_DESCRIPTION, MAX_TITLE, resolve_features


async def editable_track(runtime: Runtime, track_id: int, did: str) -> Track:
    """The artist's own track, with its audio in place: a network track still fetching (or
    unusable) has no file to publish, and rewriting its record would drop its audio."""
    track = await owned_track(runtime, track_id, did)
    if audio_problem(track) is not None:
        raise NotPlayable(track)
    return track


async def edit_track(runtime: Runtime, track_id: int, did: str, changes: dict[str, Any]) -> Track:
    """Change the record's fields; the record is rewritten (putRecord, same rkey) by a job.
    Every field is checked before anything changes."""
    current = await editable_track(runtime, track_id, did)
    values: dict[str, Any] = {}
    limits = {"title": MAX_TITLE, "album": MAX_ALBUM, "description": MAX_DESCRIPTION}
    for name, limit in limits.items():
        if name in changes and changes[name] is not None:
            text = str(changes[name]).strip()
            if name == "title" and not text:
                raise ServiceError(422, "invalid_input", "a track needs a title")
            require_storable(name, text)
            if len(text) > limit:
                raise ServiceError(
                    422, "invalid_input", f"the {name} is longer than {limit} characters"
                )
            values[name] = text or None
    if changes.get("self_labels") is not None:
        # Known content warnings, or values the track already carries (another client's).
        values["self_labels"] = labels.checked(
            list(changes["self_labels"]), keep=current.self_labels or []
        )
    if (entered := changes.get("lyrics")) is not None:
        # The whole object: what is left out (or empty) is removed.
        values["lyrics"] = lyrics.checked(
            entered.get("plain"), entered.get("synced"), entered.get("lang")
        )
    if changes.get("features") is not None:
        values["features"] = await resolve_features(runtime, list(changes["features"]), did)
    tags = normalise_tags(list(changes["tags"])) if changes.get("tags") is not None else None
    async with runtime.sessions() as db:
        track = await db.get(Track, track_id)
        assert track is not None
        album_changed = "album" in values and values["album"] != track.album
        for name, value in values.items():
            setattr(track, name, value)
        if tags is not None:
            await set_tags(db, track_id, tags)
        if album_changed:
            await file_under_album(db, did, track_id, track.album)
        if track.publish_state != PublishState.processing:
            track.publish_state = PublishState.publishing
            track.publish_error = None
            await enqueue(
                db, "track.publish", {"track_id": track_id}, dedupe_key=f"publish:{track_id}"
            )
        await db.commit()
        await db.refresh(track)
        db.expunge(track)
        return track


async def set_artwork(
    runtime: Runtime, track_id: int, did: str, image_key: str, thumb_key: str
) -> None:
    await editable_track(runtime, track_id, did)
    async with runtime.sessions() as db:
        track = await db.get(Track, track_id)
        assert track is not None
        old = [key for key in (track.image_key, track.thumbnail_key) if key]
        track.image_key, track.thumbnail_key = image_key, thumb_key
        track.publish_state = PublishState.publishing
        await enqueue(db, "track.publish", {"track_id": track_id}, dedupe_key=f"publish:{track_id}")
        if old:
            await enqueue(db, "track.delete", {"did": did, "rkey": None, "keys": old})
        await db.commit()


async def retry_publish(runtime: Runtime, track_id: int, did: str) -> None:
    track = await editable_track(runtime, track_id, did)
    if track.publish_state != PublishState.failed:
        raise ServiceError(409, "not_failed", "this track is not waiting for a retry")
    async with runtime.sessions() as db:
        failed = await db.scalar(
            select(Job.id)
            .where(Job.kind == "track.publish", Job.payload["track_id"].as_integer() == track_id)
            .order_by(Job.id.desc())
            .limit(1)
        )
        await db.execute(
            update(Track)
            .where(Track.id == track_id)
            .values(publish_state=PublishState.publishing, publish_error=None)
        )
        if failed is not None and await retry_failed(db, failed):
            pass
        else:
            await enqueue(
                db, "track.publish", {"track_id": track_id}, dedupe_key=f"publish:{track_id}"
            )
        await db.commit()


async def delete_track(
    runtime: Runtime,
    track_id: int,
    did: str,
    session_id: str | None,
    *,
    keep_record: bool = False,
    before_commit: Callable[[AsyncSession], object] | None = None,
) -> None:
    """Remove the track from plyr now; its record and unused files go in a job.

    An operator's deletion (`plyr.moderation.admin`) passes `keep_record` when plyr holds no
    session of the artist (the record stays in their PDS; the job only removes files) and
    `before_commit` to write its audit entry in the same transaction."""
    track = await owned_track(runtime, track_id, did)
    keys = [
        key
        for key in (
            track.original_key,
            track.stream_key,
            track.image_key,
            track.thumbnail_key,
            track.waveform_key,
        )
        if key
    ]
    async with runtime.sessions() as db:
        row = await db.get(Track, track_id)
        if row is not None:
            holders = await lists_holding(db, track_id)
            await drop_tracks(db, [track_id])
            await db.delete(row)
            await db.flush()  # the list entries go with the track (ON DELETE CASCADE)
            for holder in holders:
                holder.updated_at = utcnow()
                await sync.changed(db, holder, session_id)
        await enqueue(
            db,
            "track.delete",
            {
                "did": did,
                "rkey": track.rkey,
                "published": not keep_record
                and (
                    track.atproto_uri is not None or track.publish_state != PublishState.processing
                ),
                "keys": keys,
                "session_id": session_id,
            },
        )
        if before_commit is not None:
            before_commit(db)
        await db.commit()
