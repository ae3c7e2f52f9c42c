"""What pages and the API do with tracks: look them up, report upload progress, edit,
delete, retry publishing, count plays. Every change to a published track is a database
change plus a durable job, in one transaction."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from plyr.db.models import Artist, Job, Play, PublishState, Track, Upload, UploadStatus, utcnow
from plyr.errors import ServiceError
from plyr.jobs.queue import enqueue, retry_failed
from plyr.listening import scrobble
from plyr.runtime import Runtime
from plyr.social import sync
from plyr.social.lists import file_under_album, lists_holding
from plyr.tracks.jobs import set_tags, track_tags
from plyr.tracks.uploads import (
    MAX_ALBUM,
    MAX_DESCRIPTION,
    MAX_TITLE,
    normalise_tags,
    resolve_features,
)

PLAY_THRESHOLD_MS = 30_000
PLAY_THRESHOLD_FRACTION = 0.3
# Wall-clock slack when checking that a listen lasted as long as it claims.
LISTEN_CLOCK_SLACK = 0.9
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


async def tags_of(runtime: Runtime, track_id: int) -> list[str]:
    async with runtime.sessions() as db:
        return await track_tags(db, track_id)


# --- upload progress --------------------------------------------------------------------


class Progress(BaseModel):
    """Where an upload stands; the API returns it and the progress stream sends it."""

    phase: str
    percent: int
    message: str
    warnings: list[str]
    track_id: int | None
    error: str | None
    done: bool


async def upload_progress(runtime: Runtime, upload_id: str, did: str) -> Progress:
    """Where an upload stands, from its row, its jobs and its track (works across processes)."""
    async with runtime.sessions() as db:
        upload = await db.get(Upload, upload_id)
        if upload is None or upload.artist_did != did:
            raise ServiceError(404, "not_found", "there is no such upload")
        job = await db.get(Job, upload.job_id) if upload.job_id else None
        track = await db.get(Track, upload.track_id) if upload.track_id else None
        publish_job = None
        if track is not None:
            publish_job = await db.scalar(
                select(Job)
                .where(
                    Job.kind == "track.publish", Job.payload["track_id"].as_integer() == track.id
                )
                .order_by(Job.id.desc())
                .limit(1)
            )
    warnings = list(upload.warnings or [])
    if upload.status == UploadStatus.failed:
        return Progress(
            phase="failed",
            percent=100,
            message=upload.error or "failed",
            warnings=warnings,
            track_id=None,
            error=upload.error,
            done=True,
        )
    if track is None:
        phase = (job.phase if job else None) or "queued"
        percent = round((job.progress if job else 0.0) * 90)
        message = (job.message if job else None) or "waiting for a worker"
        return Progress(
            phase=phase,
            percent=percent,
            message=message,
            warnings=warnings,
            track_id=None,
            error=None,
            done=False,
        )
    if track.publish_state == PublishState.published:
        return Progress(
            phase="published",
            percent=100,
            message="published to your pds",
            warnings=warnings,
            track_id=track.id,
            error=None,
            done=True,
        )
    if track.publish_state == PublishState.failed:
        error = track.publish_error or "publishing failed"
        return Progress(
            phase="failed",
            percent=100,
            message=error,
            warnings=warnings,
            track_id=track.id,
            error=error,
            done=True,
        )
    percent = 90 + round((publish_job.progress if publish_job else 0.0) * 9)
    message = track.publish_error or (
        (publish_job.message if publish_job else None) or "writing the record to your pds"
    )
    return Progress(
        phase="publishing",
        percent=percent,
        message=message,
        warnings=warnings,
        track_id=track.id,
        error=None,
        done=False,
    )


# --- edits ------------------------------------------------------------------------------


async def edit_track(runtime: Runtime, track_id: int, did: str, changes: dict[str, Any]) -> Track:
    """Change the record's fields; the record is rewritten (putRecord, same rkey) by a job."""
    await owned_track(runtime, track_id, did)
    values: dict[str, Any] = {}
    limits = {"title": MAX_TITLE, "album": MAX_ALBUM, "description": MAX_DESCRIPTION}
    for name, limit in limits.items():
        if name in changes and changes[name] is not None:
            text = str(changes[name]).strip()
            if name == "title" and not text:
                raise ServiceError(422, "invalid_input", "a track needs a title")
            if len(text) > limit:
                raise ServiceError(
                    422, "invalid_input", f"the {name} is longer than {limit} characters"
                )
            values[name] = text or None
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
    await owned_track(runtime, track_id, did)
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
    track = await owned_track(runtime, track_id, did)
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


async def delete_track(runtime: Runtime, track_id: int, did: str, session_id: str | None) -> None:
    """Remove the track from plyr now; its record and unused files go in a job."""
    track = await owned_track(runtime, track_id, did)
    keys = [
        key
        for key in (track.original_key, track.stream_key, track.image_key, track.thumbnail_key)
        if key
    ]
    async with runtime.sessions() as db:
        row = await db.get(Track, track_id)
        if row is not None:
            holders = await lists_holding(db, track_id)
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
                "published": track.atproto_uri is not None
                or track.publish_state != PublishState.processing,
                "keys": keys,
                "session_id": session_id,
            },
        )
        await db.commit()


# --- plays ------------------------------------------------------------------------------


def play_threshold_ms(duration_seconds: int | None) -> int:
    """30 % of the track or 30 s, whichever comes first."""
    if not duration_seconds:
        return PLAY_THRESHOLD_MS
    return min(PLAY_THRESHOLD_MS, int(duration_seconds * 1000 * PLAY_THRESHOLD_FRACTION))


def _sign(secret: bytes, payload: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode())
    mac = hmac.new(secret, b"listen:" + body, hashlib.sha256).digest()[:18]
    return f"{body.decode().rstrip('=')}.{base64.urlsafe_b64encode(mac).decode()}"


def _verify(secret: bytes, token: str) -> dict[str, Any] | None:
    body, _, mac = token.partition(".")
    padded = body + "=" * (-len(body) % 4)
    expected = hmac.new(secret, b"listen:" + padded.encode(), hashlib.sha256).digest()[:18]
    try:
        if not hmac.compare_digest(base64.urlsafe_b64decode(mac), expected):
            return None
        data = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


async def start_listen(runtime: Runtime, track_id: int) -> dict[str, Any]:
    """The player asks when playback starts; the signed token carries the start time."""
    track = await get_track(runtime, track_id)
    payload = {"t": track_id, "l": uuid.uuid4().hex, "s": round(time.time(), 3)}
    return {
        "listen_token": _sign(runtime.settings.secret_key_bytes(), payload),
        "threshold_ms": play_threshold_ms(track.duration_seconds),
    }


async def count_play(
    runtime: Runtime, listen_token: str, listened_ms: int, listener_did: str | None
) -> int:
    """Count a listen once; refuse reports that cannot be true. Returns the new play count."""
    payload = _verify(runtime.settings.secret_key_bytes(), listen_token)
    if payload is None:
        raise ServiceError(422, "invalid_listen", "this listen was not started by plyr")
    track = await get_track(runtime, int(payload["t"]))
    threshold = play_threshold_ms(track.duration_seconds)
    if listened_ms < threshold:
        raise ServiceError(
            422, "too_short", f"a play counts after {threshold // 1000} s of listening"
        )
    elapsed_ms = (time.time() - float(payload["s"])) * 1000
    if elapsed_ms < threshold * LISTEN_CLOCK_SLACK:
        raise ServiceError(422, "too_soon", "this listen has not lasted long enough to count")
    async with runtime.sessions() as db:
        try:
            db.add(
                Play(
                    track_id=track.id,
                    listener_did=listener_did,
                    listen_id=str(payload["l"]),
                    listened_ms=listened_ms,
                )
            )
            await db.flush()
            await db.execute(
                update(Track).where(Track.id == track.id).values(play_count=Track.play_count + 1)
            )
            if listener_did is not None:  # a teal.fm scrobble when the listener turned it on
                await scrobble.enqueue_scrobble(
                    db,
                    runtime.settings,
                    track_id=track.id,
                    listener_did=listener_did,
                    listen_id=str(payload["l"]),
                    started_at=float(payload["s"]),
                )
            await db.commit()
        except IntegrityError as exc:
            await db.rollback()
            raise ServiceError(409, "already_counted", "this listen was already counted") from exc
        return int(await db.scalar(select(Track.play_count).where(Track.id == track.id)) or 0)


async def find_artist(runtime: Runtime, handle_or_did: str) -> Artist:
    key = handle_or_did.removeprefix("@").lower()
    async with runtime.sessions() as db:
        column = Artist.did if key.startswith("did:") else Artist.handle
        artist = await db.scalar(select(Artist).where(column == key).limit(1))
        if artist is None:
            raise ServiceError(404, "not_found", f"no artist @{key} on plyr yet")
        db.expunge(artist)
        return artist


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
