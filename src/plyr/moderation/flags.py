"""The review queue: flags a match opened, listed and filtered by score, resolved one by one or
in bulk (a violation takes the track down, a false positive names its reason), reopened, and
appealed once by the artist of the flagged track (the appeal returns the flag to the queue).

Every decision writes an audit entry in the same transaction as the change; a bulk decision is
all or nothing (an unknown id changes nothing). A violation takes the track down with the
source "flag". Clearing a flag (a false positive, a reopen, a deleted reference work)
restores the track only when a flag took it down (an operator's own takedown, say after a
legal notice, stays until an operator restores it) and none of its other flags holds it: a
violation, or a former violation the artist appealed (open again, but still down until an
operator decides).

The views (`FlagView` for operators, `ArtistFlagView` for the artist) are in `flags_view.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.db.models import (
    FalsePositiveReason,
    FlagStatus,
    ModerationFlag,
    ReferenceWork,
    Track,
    utcnow,
)
from plyr.errors import ServiceError
from plyr.moderation import audit, takedown
from plyr.moderation.flags_view import (
    ArtistFlagView,
    ArtistTrackBrief,
    FlagView,
    TrackBrief,
    WorkBrief,
    artist_view,
    track_brief,
    views,
    work_brief,
)
from plyr.moderation.labels import COPYRIGHT_VIOLATION, TAKEDOWN
from plyr.runtime import Runtime

SORTS = ("-score", "score", "-created", "created")
MAX_PAGE = 200
MAX_BULK = 500
MAX_NOTE = 2000
MAX_APPEAL = 2000
Decision = Literal["violation", "false_positive"]

__all__ = [  # the views live in flags_view.py; callers import them from here too
    "MAX_APPEAL",
    "MAX_BULK",
    "MAX_NOTE",
    "MAX_PAGE",
    "SORTS",
    "ArtistFlagView",
    "ArtistTrackBrief",
    "Decision",
    "FlagView",
    "TrackBrief",
    "WorkBrief",
    "appeal",
    "artist_flags",
    "artist_view",
    "get_flag",
    "list_flags",
    "reopen",
    "resolve",
    "restore_if_cleared",
    "track_brief",
    "work_brief",
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
        return await views(db, page), int(total or 0)


async def get_flag(runtime: Runtime, flag_id: int) -> FlagView:
    async with runtime.sessions() as db:
        flag = await db.get(ModerationFlag, flag_id)
        if flag is None:
            raise ServiceError(404, "not_found", "no such flag")
        return (await views(db, [flag]))[0]


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


async def _still_held(db: AsyncSession, track_id: int, flag_ids: set[int]) -> bool:
    """Whether a flag of the track outside `flag_ids` keeps it taken down: a violation, or
    a former violation appealed (open again with its decision's time kept) and undecided."""
    found = await db.scalar(
        select(ModerationFlag.id)
        .where(
            ModerationFlag.track_id == track_id,
            ModerationFlag.id.not_in(flag_ids),
            or_(
                ModerationFlag.status == FlagStatus.violation,
                and_(
                    ModerationFlag.status == FlagStatus.open,
                    ModerationFlag.appeal_text.is_not(None),
                    ModerationFlag.resolved_at.is_not(None),
                ),
            ),
        )
        .limit(1)
    )
    return found is not None


async def restore_if_cleared(
    runtime: Runtime, db: AsyncSession, track_id: int, batch: set[int], actor: str
) -> bool:
    """Restore a track a flag took down unless another flag outside `batch` still holds it
    (an operator's own takedown stays); whether it was restored."""
    track = await db.get(Track, track_id)
    if (
        track is None
        or track.taken_down_at is None
        or track.takedown_source != "flag"
        or await _still_held(db, track_id, batch)
    ):
        return False
    await takedown.restore(runtime, db, track_id, actor=actor)
    return True


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
                        source="flag",
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
        out = await views(db, flags)
        await db.commit()
    return out


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
        out = await views(db, flags)
        await db.commit()
    return out


async def appeal(runtime: Runtime, flag_id: int, *, did: str, text: str) -> ArtistFlagView:
    """The artist's one reply to a flag on their track: the flag returns to the queue (a
    taken-down track stays down until an operator decides again). Someone else's flag is
    answered as an unknown one (404); "once" holds under concurrent appeals (a conditional
    update)."""
    text = text.strip()
    if not 1 <= len(text) <= MAX_APPEAL:
        raise ServiceError(
            422, "invalid_input", f"write your appeal in 1 to {MAX_APPEAL} characters"
        )
    async with runtime.sessions() as db:
        row = (
            await db.execute(
                select(
                    ModerationFlag.status,
                    ModerationFlag.appeal_text,
                    ModerationFlag.track_id,
                    Track.artist_did,
                )
                .join(Track, Track.id == ModerationFlag.track_id)
                .where(ModerationFlag.id == flag_id)
            )
        ).first()
        if row is None or row.artist_did != did:
            raise ServiceError(404, "not_found", "no such flag")
        if row.appeal_text is not None:
            raise ServiceError(409, "already_appealed", "you have appealed this flag already")
        if row.status == FlagStatus.false_positive:
            raise ServiceError(409, "not_flagged", "this flag was cleared: nothing to appeal")
        done: CursorResult[tuple[()]] = await db.execute(  # type: ignore[assignment]
            update(ModerationFlag)
            .where(
                ModerationFlag.id == flag_id,
                ModerationFlag.appeal_text.is_(None),
                ModerationFlag.status != FlagStatus.false_positive,
            )
            .values(appeal_text=text, appealed_at=utcnow(), status=FlagStatus.open)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:  # another appeal (or a decision) came first
            await db.rollback()
            raise ServiceError(409, "already_appealed", "you have appealed this flag already")
        audit.record(
            db,
            actor=did,
            action="flag.appeal",
            subject=f"flag:{flag_id}",
            track_id=row.track_id,
            previous=row.status.value,
            status=FlagStatus.open.value,
            text=text,
        )
        await db.flush()
        flag = await db.get(ModerationFlag, flag_id, populate_existing=True)
        assert flag is not None
        view = artist_view((await views(db, [flag]))[0])
        await db.commit()
    return view


async def artist_flags(runtime: Runtime, did: str) -> list[ArtistFlagView]:
    """The artist's tracks under review (open) or taken down (violation), newest first, as
    the artist may see them."""
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
        return [artist_view(view) for view in await views(db, flags)]
