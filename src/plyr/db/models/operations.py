"""Rows about plyr's own machinery: the job queue, stream cursors, rate-limit counters.

Not users' content: durable background jobs, how far an event stream has been read, and the
fixed-window counters every process shares.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from plyr.db.models.base import NEVER_REUSED, Base, BigIntPK, UTCDateTime, utcnow


class JobStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class Job(Base):
    """A unit of durable background work; see plyr/jobs/queue.py for the life cycle."""

    __tablename__ = "jobs"
    __table_args__ = (
        # The claim query walks this index: eligible jobs in run order.
        Index("ix_jobs_claim", "status", "run_at"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress_range"),
        NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(128), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(
        Enum(JobStatus, native_enum=False, length=16, validate_strings=True),
        default=JobStatus.queued,
    )
    # A job with a key is enqueued at most once while it is unfinished (see enqueue()).
    dedupe_key: Mapped[str | None] = mapped_column(String(256), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(128))
    locked_until: Mapped[datetime | None] = mapped_column()
    phase: Mapped[str | None] = mapped_column(String(64))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


class IngestCursor(Base):
    """How far plyr has read an event stream (firehose), so a restart resumes there."""

    __tablename__ = "ingest_cursors"

    source: Mapped[str] = mapped_column(String(512), primary_key=True)
    cursor: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RateLimitHit(Base):
    """Fixed-window counters shared by every process (sign-in, uploads, writes)."""

    __tablename__ = "rate_limit_hits"

    bucket: Mapped[str] = mapped_column(String(300), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class BackfillRepo(Base):
    """How far `plyr backfill` got with one repository: the revision it indexed, so an
    unchanged repo is skipped next time, and what it skipped and why."""

    __tablename__ = "backfill_repos"

    did: Mapped[str] = mapped_column(String(2048), primary_key=True)
    rev: Mapped[str | None] = mapped_column(String(32))
    commit_cid: Mapped[str | None] = mapped_column(String(128))
    # "done", "failed" (the repo as a whole: unreachable, fails to verify), "running"
    status: Mapped[str] = mapped_column(String(16))
    records: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Export(Base):
    """A user's export of everything they put on plyr: a zip made by a job, downloadable
    from an expiring link."""

    __tablename__ = "exports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    did: Mapped[str] = mapped_column(ForeignKey("artists.did", ondelete="CASCADE"), index=True)
    # "queued", "running", "ready", "failed", "expired"
    status: Mapped[str] = mapped_column(String(16))
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    object_key: Mapped[str | None] = mapped_column(String(512))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    files: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
