"""The audit log: every moderation decision (a flag resolved, a track taken down or deleted,
an account hidden, an appeal) writes one row in the same transaction as the change itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.db.models import ModerationEvent
from plyr.runtime import Runtime

MAX_EVENTS = 500


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]


def record(
    db: AsyncSession, *, actor: str, action: str, subject: str, **detail: Any
) -> ModerationEvent:
    """Add an entry to `db`'s transaction: it commits (or rolls back) with the change."""
    event = ModerationEvent(actor=actor, action=action, subject=subject, detail=detail)
    db.add(event)
    return event


async def entries(
    runtime: Runtime,
    *,
    subject: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Newest first; `subject` narrows to one thing ("flag:12", "track:34"); `before` pages."""
    query = select(ModerationEvent).order_by(ModerationEvent.id.desc())
    if subject is not None:
        query = query.where(ModerationEvent.subject == subject)
    if before is not None:
        query = query.where(ModerationEvent.id < before)
    async with runtime.sessions() as db:
        rows = (await db.scalars(query.limit(max(1, min(limit, MAX_EVENTS))))).all()
    return [
        AuditEntry(row.id, row.at, row.actor, row.action, row.subject, dict(row.detail or {}))
        for row in rows
    ]
