"""Taking a track down and restoring it, hiding an account's content and showing it again.

A takedown only marks rows (`Track.taken_down_at`, `Artist.hidden_at`): every listing,
search, feed and queue leaves them out through `plyr.db.visibility`, the media routes answer
451, and a reversal clears the mark so everything comes back as it was. The records stay in
the artist's PDS: plyr never deletes a user's record by itself. Each decision writes an
audit entry and a label (`takedown` on the track record's URI and CID, or on the account's
DID) in the same transaction; a reversal negates the labels still in effect. A track's
`takedown_source` says who took it down: "flag" (a copyright decision, which clearing its
flags may undo) or "admin" (only an operator's restore undoes it).

The listings' short caches are cleared when the transaction commits (`_clear_after_commit`),
whichever caller commits it: clearing before would let a request cache the old state again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.artists import find_artist
from plyr.cache import catalogue_changed
from plyr.db.models import Artist, Track, utcnow
from plyr.db.text import require_storable
from plyr.errors import ServiceError
from plyr.moderation import audit
from plyr.moderation.labels import COPYRIGHT_VIOLATION, TAKEDOWN, issue
from plyr.runtime import Runtime

MAX_REASON = 1000
# What a takedown may have labelled; a restore negates those of them still in effect.
TAKEDOWN_LABELS = (TAKEDOWN, COPYRIGHT_VIOLATION)
Source = Literal["flag", "admin"]
SOURCES: tuple[Source, ...] = ("flag", "admin")


def clean_reason(reason: str) -> str:
    cleaned = " ".join(reason.split())
    if not cleaned:
        raise ServiceError(422, "invalid_input", "say why (a reason is required)")
    if len(cleaned) > MAX_REASON:
        raise ServiceError(422, "invalid_input", f"a reason has at most {MAX_REASON} characters")
    require_storable("reason", cleaned)
    return cleaned


def _clear_after_commit(db: AsyncSession) -> None:
    """Clear the catalogue caches once `db` commits (once per transaction)."""
    session = db.sync_session
    if session.info.get("catalogue_changed"):
        return
    session.info["catalogue_changed"] = True

    def committed(_session: Any) -> None:
        session.info.pop("catalogue_changed", None)
        catalogue_changed()

    # After a rollback the listener stays for the session's next commit: a harmless clear.
    event.listen(session, "after_commit", committed, once=True)


async def _track(db: AsyncSession, track_id: int) -> Track:
    track = await db.get(Track, track_id)
    if track is None:
        raise ServiceError(404, "not_found", f"there is no track {track_id}")
    return track


async def take_down(
    runtime: Runtime,
    db: AsyncSession,
    track_id: int,
    *,
    reason: str,
    actor: str,
    labels: Sequence[str] = (TAKEDOWN,),
    source: Source = "admin",
) -> Track:
    """Mark the track taken down in `db`'s transaction (audit entry and labels included):
    it leaves listings, search, feeds and other users' queues; its audio answers 451.
    `source`: "flag" for a copyright decision, "admin" for an operator's own takedown."""
    if source not in SOURCES:
        raise ServiceError(422, "invalid_input", f"a takedown's source is one of {SOURCES}")
    cleaned = clean_reason(reason)
    track = await _track(db, track_id)
    if track.taken_down_at is not None:
        raise ServiceError(409, "conflict", f"track {track_id} is already taken down")
    track.taken_down_at = utcnow()
    track.takedown_reason = cleaned
    track.takedown_source = source
    issued = []
    if track.atproto_uri:  # a record never published has nothing to label
        for value in dict.fromkeys(labels):
            await issue(runtime, db, uri=track.atproto_uri, cid=track.atproto_cid, val=value)
            issued.append(value)
    audit.record(
        db,
        actor=actor,
        action="track.takedown",
        subject=f"track:{track_id}",
        reason=cleaned,
        source=source,
        uri=track.atproto_uri,
        labels=issued,
    )
    await db.flush()
    _clear_after_commit(db)
    return track


async def restore(runtime: Runtime, db: AsyncSession, track_id: int, *, actor: str) -> Track:
    """Reverse `take_down` in `db`'s transaction: everything comes back; labels negated."""
    track = await _track(db, track_id)
    if track.taken_down_at is None:
        raise ServiceError(409, "conflict", f"track {track_id} is not taken down")
    reason, source = track.takedown_reason, track.takedown_source
    track.taken_down_at = None
    track.takedown_reason = None
    track.takedown_source = None
    negated: list[str] = []
    if track.atproto_uri:
        negated = await _negate(runtime, db, track.atproto_uri, track.atproto_cid)
    audit.record(
        db,
        actor=actor,
        action="track.restore",
        subject=f"track:{track_id}",
        was=reason,
        source=source,
        uri=track.atproto_uri,
        labels_negated=negated,
    )
    await db.flush()
    _clear_after_commit(db)
    return track


async def _negate(runtime: Runtime, db: AsyncSession, uri: str, cid: str | None) -> list[str]:
    """Negate the takedown labels on `uri` that hold (`issue` negates only what holds)."""
    negated = []
    for value in TAKEDOWN_LABELS:
        if await issue(runtime, db, uri=uri, cid=cid, val=value, neg=True) is not None:
            negated.append(value)
    return negated


# --- whole tracks, for the CLI and the admin API (each its own transaction) ---------------


async def take_down_track(
    runtime: Runtime,
    track_id: int,
    *,
    reason: str,
    actor: str,
    labels: Sequence[str] = (TAKEDOWN,),
) -> Track:
    async with runtime.sessions() as db:
        track = await take_down(runtime, db, track_id, reason=reason, actor=actor, labels=labels)
        await db.commit()
        db.expunge(track)
    return track


async def restore_track(runtime: Runtime, track_id: int, *, actor: str) -> Track:
    async with runtime.sessions() as db:
        track = await restore(runtime, db, track_id, actor=actor)
        await db.commit()
        db.expunge(track)
    return track


# --- accounts -------------------------------------------------------------------------------


async def _artist(db: AsyncSession, runtime: Runtime, did_or_handle: str) -> Artist:
    found = await find_artist(runtime, did_or_handle.strip())  # 404 for an unknown account
    artist = await db.get(Artist, found.did)
    if artist is None:  # deleted in between
        raise ServiceError(404, "not_found", f"no artist {did_or_handle} on plyr")
    return artist


async def hide_account(runtime: Runtime, did_or_handle: str, *, reason: str, actor: str) -> Artist:
    """Hide all of an account's content (tracks, albums, playlists, comments, likes) from
    public views; its records stay in its PDS. Audited; a `takedown` label on the DID."""
    cleaned = clean_reason(reason)
    async with runtime.sessions() as db:
        artist = await _artist(db, runtime, did_or_handle)
        if artist.hidden_at is not None:
            raise ServiceError(409, "conflict", f"@{artist.handle} is already hidden")
        artist.hidden_at = utcnow()
        artist.hidden_reason = cleaned
        await issue(runtime, db, uri=artist.did, cid=None, val=TAKEDOWN)
        audit.record(
            db,
            actor=actor,
            action="account.hide",
            subject=f"account:{artist.did}",
            reason=cleaned,
            handle=artist.handle,
        )
        await db.commit()
        db.expunge(artist)
    catalogue_changed()
    return artist


async def unhide_account(runtime: Runtime, did_or_handle: str, *, actor: str) -> Artist:
    """Show a hidden account's content again; its takedown label is negated."""
    async with runtime.sessions() as db:
        artist = await _artist(db, runtime, did_or_handle)
        if artist.hidden_at is None:
            raise ServiceError(409, "conflict", f"@{artist.handle} is not hidden")
        reason = artist.hidden_reason
        artist.hidden_at = None
        artist.hidden_reason = None
        negated = await _negate(runtime, db, artist.did, None)
        audit.record(
            db,
            actor=actor,
            action="account.unhide",
            subject=f"account:{artist.did}",
            was=reason,
            handle=artist.handle,
            labels_negated=negated,
        )
        await db.commit()
        db.expunge(artist)
    catalogue_changed()
    return artist
