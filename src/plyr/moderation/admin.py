"""The operators' delete: a track out of plyr for good (its rows, the stored files nothing
else uses) and, where plyr holds a session of the artist, its record out of their PDS.

It reuses the artist's own deletion (`tracks.editing.delete_track`: rows now, the record and
files by the `track.delete` job), so both stay one code path. Without a live session plyr
cannot write to the artist's repository: the record stays, and the report says where. A dry
run counts the same things and changes nothing. Every real deletion is audited with its
report, in the deletion's transaction.

Deleting an original that others copied deletes the violation flags naming it (they cascade
with it), while the copies stay taken down: the report and the audit entry list them, and
their takedown becomes the operator's (`takedown_source` "admin", the reason saying the
original was deleted), so clearing some unrelated flag later doesn't restore them.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Text, and_, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.auth.sessions import session_for
from plyr.cache import catalogue_changed
from plyr.db.models import (
    Comment,
    FlagStatus,
    Like,
    ListItem,
    ModerationFlag,
    MusicList,
    NowPlaying,
    Play,
    PlayQueue,
    Track,
    TrackTag,
)
from plyr.errors import ServiceError
from plyr.moderation import audit
from plyr.moderation.takedown import MAX_REASON
from plyr.runtime import Runtime
from plyr.tracks import editing

_TRACK_PATH = re.compile(r"^/(?:tracks|audio|images|embed/track)/([0-9]{1,18})(?:/.*)?$")
MAX_REF = 2048


@dataclass
class DeletionReport:
    """What an operator's deletion removes (or, on a dry run, would remove)."""

    track_id: int
    title: str
    artist_did: str
    dry_run: bool
    uri: str | None
    # Rows that go with the track: likes, comments, list entries, plays, tags, flags…
    rows: dict[str, int] = field(default_factory=dict)
    # Stored objects nothing else uses (deleted by the job) and those kept (shared).
    files_deleted: list[str] = field(default_factory=list)
    files_kept: list[str] = field(default_factory=list)
    record: str = ""  # deleted | remains | none
    record_note: str = ""
    # Copies of this track its violation flags held down: they stay taken down.
    takedowns_kept: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        verb = "would delete" if self.dry_run else "deleted"
        rows = ", ".join(f"{count} {name}" for name, count in self.rows.items() if count)
        return [
            f"{verb} track {self.track_id} ({self.title}) by {self.artist_did}",
            f"rows: {rows or 'the track only'}",
            f"files: {len(self.files_deleted)} removed"
            + (f", {len(self.files_kept)} kept (still used elsewhere)" if self.files_kept else ""),
            *(f"  {key}" for key in self.files_deleted),
            f"record: {self.record_note}",
            *(
                [
                    "stay taken down (copies of it; their flags go with it): tracks "
                    + ", ".join(str(i) for i in self.takedowns_kept)
                ]
                if self.takedowns_kept
                else []
            ),
        ]


def parse_ref(runtime: Runtime, ref: str) -> tuple[str, int | str]:
    """`("id", 12)` for `12`, `/tracks/12` or a URL of this plyr; `("uri", …)` for at://."""
    text = ref.strip()
    if not text or len(text) > MAX_REF or "\x00" in text:
        raise ServiceError(422, "invalid_input", "name a track: its id, URL or at:// URI")
    if text.isdigit() and len(text) <= 18:
        return "id", int(text)
    if text.startswith("at://"):
        return "uri", text
    parts = urlsplit(text)
    if parts.scheme or parts.netloc:
        ours = urlsplit(runtime.settings.public_url)
        if (parts.scheme, parts.netloc) != (ours.scheme, ours.netloc):
            raise ServiceError(422, "invalid_input", f"{text} is not an address of this plyr")
    match = _TRACK_PATH.match(parts.path)
    if match is None:
        raise ServiceError(422, "invalid_input", f"{text} names no track (id, URL or at:// URI)")
    return "id", int(match.group(1))


async def find_track(runtime: Runtime, ref: str) -> Track:
    kind, value = parse_ref(runtime, ref)
    async with runtime.sessions() as db:
        if kind == "id":
            track = await db.get(Track, value)
        else:
            track = await db.scalar(select(Track).where(Track.atproto_uri == value).limit(1))
        if track is None:
            raise ServiceError(404, "not_found", f"there is no track {ref.strip()}")
        db.expunge(track)
        return track


async def _count(db: AsyncSession, column: Any, track_id: int) -> int:
    return int(await db.scalar(select(func.count()).where(column == track_id)) or 0)


async def _rows(db: AsyncSession, track_id: int) -> dict[str, int]:
    # Queues hold ids in a JSON list: the text match over-matches (12 in 123), so check.
    as_text = cast(PlayQueue.track_ids, Text)
    queues = await db.scalars(select(PlayQueue.track_ids).where(as_text.like(f"%{track_id}%")))
    flags = await db.scalar(
        select(func.count()).where(
            or_(ModerationFlag.track_id == track_id, ModerationFlag.matched_track_id == track_id)
        )
    )
    return {
        "track": 1,
        "likes": await _count(db, Like.track_id, track_id),
        "comments": await _count(db, Comment.track_id, track_id),
        "list entries": await _count(db, ListItem.track_id, track_id),
        "plays": await _count(db, Play.track_id, track_id),
        "tags": await _count(db, TrackTag.track_id, track_id),
        "now playing": await _count(db, NowPlaying.track_id, track_id),
        "flags": int(flags or 0),
        "queues": sum(1 for ids in queues if track_id in list(ids)),
    }


ORIGINAL_GONE = " (the original was deleted by an operator; the takedown stands)"


async def _kept_copies(db: AsyncSession, track_id: int) -> list[Track]:
    """Taken-down copies of `track_id` that a flag naming it holds down, detached, their
    takedown made the operator's (reason and source changed, not yet written)."""
    holding = select(ModerationFlag.track_id).where(
        ModerationFlag.matched_track_id == track_id,
        or_(
            ModerationFlag.status == FlagStatus.violation,
            and_(
                ModerationFlag.status == FlagStatus.open,
                ModerationFlag.appeal_text.is_not(None),
                ModerationFlag.resolved_at.is_not(None),
            ),
        ),
    )
    copies = (
        await db.scalars(
            select(Track)
            .where(
                Track.id.in_(holding),
                Track.taken_down_at.is_not(None),
                Track.takedown_source == "flag",
            )
            .order_by(Track.id)
        )
    ).all()
    for copy in copies:
        db.expunge(copy)
        reason = copy.takedown_reason or "copyright: matches a deleted track"
        if not reason.endswith(ORIGINAL_GONE):
            reason = reason[: MAX_REASON - len(ORIGINAL_GONE)] + ORIGINAL_GONE
        copy.takedown_reason, copy.takedown_source = reason, "admin"
    return list(copies)


async def _files(db: AsyncSession, track: Track) -> tuple[list[str], list[str]]:
    """The track's stored objects: those only it uses, and those another track or a list
    still uses (content-addressed files are shared; `tracks.deleting.delete_unused`)."""
    keys = [
        k
        for k in (
            track.original_key,
            track.stream_key,
            track.image_key,
            track.thumbnail_key,
            track.waveform_key,
        )
        if k
    ]
    unused: list[str] = []
    kept: list[str] = []
    for key in dict.fromkeys(keys):
        other_track = await db.scalar(
            select(Track.id)
            .where(
                and_(
                    Track.id != track.id,
                    or_(
                        Track.original_key == key,
                        Track.stream_key == key,
                        Track.image_key == key,
                        Track.thumbnail_key == key,
                        Track.waveform_key == key,
                    ),
                )
            )
            .limit(1)
        )
        in_list = await db.scalar(
            select(MusicList.id)
            .where(or_(MusicList.image_key == key, MusicList.thumbnail_key == key))
            .limit(1)
        )
        (kept if other_track is not None or in_list is not None else unused).append(key)
    return unused, kept


async def delete_track(
    runtime: Runtime, ref: str, *, actor: str, dry_run: bool = False
) -> DeletionReport:
    """Delete a track (id, /tracks/ID URL or at:// URI) as an operator; see the module."""
    track = await find_track(runtime, ref)
    async with runtime.sessions() as db:
        rows = await _rows(db, track.id)
        unused, kept = await _files(db, track)
        copies = await _kept_copies(db, track.id)
    session = await session_for(runtime, track.artist_did)
    report = DeletionReport(
        track_id=track.id,
        title=track.title,
        artist_did=track.artist_did,
        dry_run=dry_run,
        uri=track.atproto_uri,
        rows=rows,
        files_deleted=unused,
        files_kept=kept,
        takedowns_kept=[copy.id for copy in copies],
    )
    if track.atproto_uri is None:
        report.record, report.record_note = "none", "the track was never published to a pds"
    elif session is not None:
        report.record = "deleted"
        report.record_note = (
            f"{track.atproto_uri} {'would be' if dry_run else 'is being'} deleted from the "
            "artist's pds with their session (the track.delete job)"
        )
    else:
        report.record = "remains"
        report.record_note = (
            f"remains at {track.atproto_uri} in the artist's pds: plyr holds no session of "
            f"{track.artist_did}, so only they can delete it"
        )
    if dry_run:
        return report

    def write_audit(db: AsyncSession) -> None:
        for copy in copies:  # their changed reason and source are written with the deletion
            db.add(copy)
        audit.record(
            db, actor=actor, action="track.delete", subject=f"track:{track.id}", **report.as_dict()
        )

    await editing.delete_track(
        runtime,
        track.id,
        track.artist_did,
        session.id if session is not None else None,
        keep_record=report.record != "deleted",
        before_commit=write_audit,
    )
    catalogue_changed()
    return report
