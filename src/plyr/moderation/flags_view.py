"""What the review shows of a flag: the operators' full view (`FlagView`: the track, the work
or earlier track it matched, the decision and who made it) and the artist's own
(`ArtistFlagView`): their track, what it matched by title and artist, and their appeal, but
nothing of the operators (their DIDs, notes) nor of the other account (its DID, record,
takedown), which may be hidden."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.db.models import (
    Artist,
    FalsePositiveReason,
    FlagStatus,
    ModerationFlag,
    ReferenceWork,
    Track,
)


@dataclass(frozen=True)
class TrackBrief:
    id: int
    title: str
    artist_did: str
    artist_handle: str | None
    artist_name: str
    duration_seconds: int | None
    taken_down: bool
    takedown_reason: str | None
    atproto_uri: str | None


@dataclass(frozen=True)
class WorkBrief:
    id: int
    title: str
    artist: str
    rights_holder: str | None
    source: str | None
    has_audio: bool
    duration_seconds: float


@dataclass(frozen=True)
class FlagView:
    id: int
    status: FlagStatus
    score: int
    ranges: list[dict[str, Any]]
    engine: str
    track: TrackBrief
    matched_work: WorkBrief | None
    matched_track: TrackBrief | None
    reason: FalsePositiveReason | None
    note: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    appeal_text: str | None
    appealed_at: datetime | None
    created_at: datetime


def track_brief(track: Track, artist: Artist | None) -> TrackBrief:
    return TrackBrief(
        id=track.id,
        title=track.title,
        artist_did=track.artist_did,
        artist_handle=artist.handle if artist else None,
        artist_name=track.artist_name or (artist.display_name if artist else None) or "",
        duration_seconds=track.duration_seconds,
        taken_down=track.taken_down_at is not None,
        takedown_reason=track.takedown_reason,
        atproto_uri=track.atproto_uri,
    )


def work_brief(work: ReferenceWork) -> WorkBrief:
    return WorkBrief(
        id=work.id,
        title=work.title,
        artist=work.artist,
        rights_holder=work.rights_holder,
        source=work.source,
        has_audio=work.audio_key is not None,
        duration_seconds=work.duration_seconds,
    )


async def views(db: AsyncSession, flags: Sequence[ModerationFlag]) -> list[FlagView]:
    """Views of `flags` in their order, with their tracks and works loaded in two queries."""
    track_ids = {f.track_id for f in flags} | {
        f.matched_track_id for f in flags if f.matched_track_id is not None
    }
    work_ids = {f.reference_work_id for f in flags if f.reference_work_id is not None}
    tracks: dict[int, TrackBrief] = {}
    if track_ids:
        rows = await db.execute(
            select(Track, Artist)
            .outerjoin(Artist, Artist.did == Track.artist_did)
            .where(Track.id.in_(track_ids))
        )
        tracks = {track.id: track_brief(track, artist) for track, artist in rows}
    works: dict[int, WorkBrief] = {}
    if work_ids:
        found = await db.scalars(select(ReferenceWork).where(ReferenceWork.id.in_(work_ids)))
        works = {work.id: work_brief(work) for work in found}
    return [
        FlagView(
            id=f.id,
            status=f.status,
            score=f.score,
            ranges=list(f.ranges or []),
            engine=f.engine,
            track=tracks[f.track_id],
            matched_work=works.get(f.reference_work_id) if f.reference_work_id else None,
            matched_track=tracks.get(f.matched_track_id) if f.matched_track_id else None,
            reason=f.reason,
            note=f.note,
            resolved_by=f.resolved_by,
            resolved_at=f.resolved_at,
            appeal_text=f.appeal_text,
            appealed_at=f.appealed_at,
            created_at=f.created_at,
        )
        for f in flags
    ]


@dataclass(frozen=True)
class ArtistTrackBrief:
    """The artist's own track, as the portal shows it."""

    id: int
    title: str
    duration_seconds: int | None
    taken_down: bool
    takedown_reason: str | None


@dataclass(frozen=True)
class ArtistFlagView:
    id: int
    status: FlagStatus
    score: int
    ranges: list[dict[str, Any]]
    track: ArtistTrackBrief
    matched_title: str | None
    matched_artist: str | None
    matched_rights_holder: str | None  # a reference work's; None for an earlier track
    appeal_text: str | None
    appealed_at: datetime | None
    created_at: datetime


def artist_view(view: FlagView) -> ArtistFlagView:
    """`view` without what only operators may see."""
    own = view.track
    work, other = view.matched_work, view.matched_track
    return ArtistFlagView(
        id=view.id,
        status=view.status,
        score=view.score,
        ranges=view.ranges,
        track=ArtistTrackBrief(
            id=own.id,
            title=own.title,
            duration_seconds=own.duration_seconds,
            taken_down=own.taken_down,
            takedown_reason=own.takedown_reason,
        ),
        matched_title=work.title if work else (other.title if other else None),
        matched_artist=work.artist if work else (other.artist_name or None if other else None),
        matched_rights_holder=work.rights_holder if work else None,
        appeal_text=view.appeal_text,
        appealed_at=view.appealed_at,
        created_at=view.created_at,
    )
