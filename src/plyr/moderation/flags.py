"""The review queue: flags a match opened, listed and filtered by score, resolved one by one or
in bulk (a violation takes the track down, a false positive names its reason), reopened, and
appealed once by the artist of the flagged track (the appeal returns the flag to the queue).

Every decision writes an audit entry in the same transaction as the change; a bulk decision is
all or nothing (an unknown id changes nothing). A track stays taken down while any of its
flags is a violation: reversing one of two violations does not restore it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.db.models import (
    Artist,
    FalsePositiveReason,
    FlagStatus,
    ModerationFlag,
    ReferenceWork,
    Track,
    utcnow,
)
from plyr.errors import ServiceError
from plyr.moderation import audit, takedown
from plyr.moderation.labels import COPYRIGHT_VIOLATION, TAKEDOWN
from plyr.runtime import Runtime

SORTS = ("-score", "score", "-created", "created")
MAX_PAGE = 200
MAX_BULK = 500
MAX_NOTE = 2000
MAX_APPEAL = 2000
Decision = Literal["violation", "false_positive"]


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


async def _views(db: AsyncSession, flags: Sequence[ModerationFlag]) -> list[FlagView]:
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


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ServiceError(422, "invalid_input", f"{name} must be between {low} and {high}")


async def list_flags(
    runtime: Runtime,
    *,
    status: FlagStatus | None = FlagStatus.open,
    min_score: int = 0,
    max_score: int = 100,
    sort: str = "-score",
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[FlagView], int]:
    """One page of flags (`status` None: every status) and how many match in all."""
    if sort not in SORTS:
        raise ServiceError(422, "invalid_input", f"sort must be one of {', '.join(SORTS)}")
    _check_range("min_score", min_score, 0, 100)
    _check_range("max_score", max_score, 0, 100)
    _check_range("limit", limit, 1, MAX_PAGE)
    _check_range("offset", offset, 0, 2**31 - 1)
    where = [ModerationFlag.score >= min_score, ModerationFlag.score <= max_score]
    if status is not None:
        where.append(ModerationFlag.status == status)
    column = ModerationFlag.score if sort.endswith("score") else ModerationFlag.created_at
    order = column.desc() if sort.startswith("-") else column.asc()
    tie = ModerationFlag.id.desc() if sort.startswith("-") else ModerationFlag.id.asc()
    async with runtime.sessions() as db:
        total = await db.scalar(select(func.count()).select_from(ModerationFlag).where(*where))
        page = (
            await db.scalars(
                select(ModerationFlag)
                .where(*where)
                .order_by(order, tie)
                .offset(offset)
                .limit(limit)
            )
        ).all()
        return await _views(db, page), int(total or 0)


async def get_flag(runtime: Runtime, flag_id: int) -> FlagView:
    async with runtime.sessions() as db:
        flag = await db.get(ModerationFlag, flag_id)
        if flag is None:
            raise ServiceError(404, "not_found", "no such flag")
        return (await _views(db, [flag]))[0]


async def _load(db: AsyncSession, flag_ids: Sequence[int]) -> list[ModerationFlag]:
    """The flags in the order asked (duplicates once), locked; 404 naming the first unknown."""
    ids = list(dict.fromkeys(flag_ids))
    if not ids:
        raise ServiceError(422, "invalid_input", "name at least one flag")
    if len(ids) > MAX_BULK:
        raise ServiceError(422, "invalid_input", f"at most {MAX_BULK} flags at once")
    rows = await db.scalars(
        select(ModerationFlag).where(ModerationFlag.id.in_(ids)).with_for_update()
    )
    found = {flag.id: flag for flag in rows}
    missing = [flag_id for flag_id in ids if flag_id not in found]
    if missing:
        raise ServiceError(404, "not_found", f"no such flag: {missing[0]}")
    return [found[flag_id] for flag_id in ids]


def _clean_note(note: str | None, *, name: str = "note", limit: int = MAX_NOTE) -> str | None:
    if note is None:
        return None
    note = note.strip()
    if len(note) > limit:
        raise ServiceError(422, "invalid_input", f"the {name} is longer than {limit} characters")
    return note or None


async def _takedown_reason(db: AsyncSession, flag: ModerationFlag) -> str:
    if flag.reference_work_id is not None:
        work = await db.get(ReferenceWork, flag.reference_work_id)
        if work is not None:
            holder = f" ({work.rights_holder})" if work.rights_holder else ""
            return f"copyright: matches “{work.title}” by {work.artist}{holder}"
    if flag.matched_track_id is not None:
        other = await db.get(Track, flag.matched_track_id)
        if other is not None:
            return f"copyright: matches “{other.title}” by {other.artist_name}, uploaded earlier"
    return "copyright: matches a known work"


async def _other_violation(db: AsyncSession, track_id: int, flag_ids: set[int]) -> bool:
    """Whether a flag of the track outside `flag_ids` keeps it taken down."""
    found = await db.scalar(
        select(ModerationFlag.id)
        .where(
            ModerationFlag.track_id == track_id,
            ModerationFlag.status == FlagStatus.violation,
            ModerationFlag.id.not_in(flag_ids),
        )
        .limit(1)
    )
    return found is not None


async def restore_if_cleared(
    runtime: Runtime, db: AsyncSession, track_id: int, batch: set[int], actor: str
) -> None:
    """Restore a taken-down track unless a violation outside `batch` still holds it down."""
    track = await db.get(Track, track_id)
    if (
        track is not None
        and track.taken_down_at is not None
        and not await _other_violation(db, track_id, batch)
    ):
        await takedown.restore(runtime, db, track_id, actor=actor)


async def resolve(
    runtime: Runtime,
    flag_ids: Sequence[int],
    *,
    decision: Decision,
    reason: FalsePositiveReason | None = None,
    note: str | None = None,
    actor: str,
) -> list[FlagView]:
    """Decide flags (any status: a new decision replaces the old one). A violation takes the
    track down; a false positive needs a reason and restores a track no other violation
    holds down."""
    if decision not in ("violation", "false_positive"):
        raise ServiceError(422, "invalid_input", "decide violation or false_positive")
    if decision == "false_positive" and reason is None:
        raise ServiceError(
            422,
            "invalid_input",
            "a false positive needs a reason: " + ", ".join(r.value for r in FalsePositiveReason),
        )
    if decision == "violation":
        reason = None
    note = _clean_note(note)
    status = FlagStatus(decision)
    now = utcnow()
    async with runtime.sessions() as db:
        flags = await _load(db, flag_ids)
        batch = {flag.id for flag in flags}
        for flag in flags:
            previous = flag.status
            flag.status, flag.reason, flag.note = status, reason, note
            flag.resolved_by, flag.resolved_at = actor, now
            track = await db.get(Track, flag.track_id)
            if status == FlagStatus.violation:
                if track is not None and track.taken_down_at is None:
                    await takedown.take_down(
                        runtime,
                        db,
                        flag.track_id,
                        reason=await _takedown_reason(db, flag),
                        actor=actor,
                        labels=(TAKEDOWN, COPYRIGHT_VIOLATION),
                    )
            else:
                await restore_if_cleared(runtime, db, flag.track_id, batch, actor)
            audit.record(
                db,
                actor=actor,
                action=f"flag.{decision}",
                subject=f"flag:{flag.id}",
                track_id=flag.track_id,
                previous=previous.value,
                reason=reason.value if reason else None,
                note=note,
            )
        await db.flush()
        views = await _views(db, flags)
        await db.commit()
    return views


async def reopen(
    runtime: Runtime, flag_ids: Sequence[int], *, actor: str, note: str | None = None
) -> list[FlagView]:
    """Return decided flags to the queue; a violation's track is restored (unless another
    violation holds it down). An open flag stays as it is."""
    note = _clean_note(note)
    async with runtime.sessions() as db:
        flags = await _load(db, flag_ids)
        batch = {flag.id for flag in flags if flag.status == FlagStatus.violation}
        for flag in flags:
            previous = flag.status
            if previous == FlagStatus.open:
                continue
            flag.status, flag.reason, flag.note = FlagStatus.open, None, note
            flag.resolved_by, flag.resolved_at = None, None
            if previous == FlagStatus.violation:
                await restore_if_cleared(runtime, db, flag.track_id, batch, actor)
            audit.record(
                db,
                actor=actor,
                action="flag.reopen",
                subject=f"flag:{flag.id}",
                track_id=flag.track_id,
                previous=previous.value,
                note=note,
            )
        await db.flush()
        views = await _views(db, flags)
        await db.commit()
    return views


async def appeal(runtime: Runtime, flag_id: int, *, did: str, text: str) -> FlagView:
    """The artist's one reply to a flag on their track: the flag returns to the queue (a
    taken-down track stays down until an operator decides again)."""
    text = text.strip()
    if not 1 <= len(text) <= MAX_APPEAL:
        raise ServiceError(
            422, "invalid_input", f"write your appeal in 1 to {MAX_APPEAL} characters"
        )
    async with runtime.sessions() as db:
        flag = await db.get(ModerationFlag, flag_id, with_for_update=True)
        if flag is None:
            raise ServiceError(404, "not_found", "no such flag")
        owner = await db.scalar(select(Track.artist_did).where(Track.id == flag.track_id))
        if owner != did:
            raise ServiceError(403, "forbidden", "only the artist of the flagged track can appeal")
        if flag.appeal_text is not None:
            raise ServiceError(409, "already_appealed", "you have appealed this flag already")
        if flag.status == FlagStatus.false_positive:
            raise ServiceError(409, "not_flagged", "this flag was cleared: nothing to appeal")
        previous = flag.status
        flag.appeal_text, flag.appealed_at = text, utcnow()
        flag.status = FlagStatus.open
        audit.record(
            db,
            actor=did,
            action="flag.appeal",
            subject=f"flag:{flag.id}",
            track_id=flag.track_id,
            previous=previous.value,
            status=FlagStatus.open.value,
            text=text,
        )
        await db.flush()
        view = (await _views(db, [flag]))[0]
        await db.commit()
    return view


async def artist_flags(runtime: Runtime, did: str) -> list[FlagView]:
    """The artist's tracks under review (open) or taken down (violation), newest first."""
    async with runtime.sessions() as db:
        flags = (
            await db.scalars(
                select(ModerationFlag)
                .join(Track, Track.id == ModerationFlag.track_id)
                .where(
                    Track.artist_did == did,
                    ModerationFlag.status.in_((FlagStatus.open, FlagStatus.violation)),
                )
                .order_by(ModerationFlag.created_at.desc(), ModerationFlag.id.desc())
                .limit(MAX_PAGE)
            )
        ).all()
        return await _views(db, flags)
