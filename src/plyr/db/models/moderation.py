"""Copyright moderation: acoustic fingerprints, the operator's reference catalogue, the flags a
match opens, the audit log of every decision, and the signed labels plyr's labeler serves.

A track is taken down by `Track.taken_down_at` (its record stays in the artist's PDS); an
account is hidden by `Artist.hidden_at` (both columns live in `tracks.py` beside the rest of
those rows). A fingerprint is Chromaprint's raw form: little-endian uint32 sub-fingerprints,
one per ~0.124 s of audio.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from plyr.db.models.base import NEVER_REUSED, Base, BigIntPK, utcnow


class ReferenceWork(Base):
    """A known work the operator imported: what uploads are matched against."""

    __tablename__ = "reference_works"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(256))
    artist: Mapped[str] = mapped_column(String(256))
    rights_holder: Mapped[str | None] = mapped_column(String(256))
    # Where it came from (a file name), for the operator.
    source: Mapped[str | None] = mapped_column(String(512))
    duration_seconds: Mapped[float] = mapped_column(Float)
    engine: Mapped[str] = mapped_column(String(32))  # e.g. "chromaprint-2"
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary)
    # The imported audio, when an audio file was imported (a fingerprint file has none):
    # the review page plays it beside the flagged track.
    audio_key: Mapped[str | None] = mapped_column(String(512))
    audio_content_type: Mapped[str | None] = mapped_column(String(128))
    created_by: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrackFingerprint(Base):
    """The acoustic fingerprint of a published track (one per track)."""

    __tablename__ = "track_fingerprints"

    track_id: Mapped[int] = mapped_column(
        ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True
    )
    duration_seconds: Mapped[float] = mapped_column(Float)
    engine: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FlagStatus(enum.StrEnum):
    open = "open"  # waiting for an operator (new, or returned by the artist's appeal)
    violation = "violation"  # decided: the track is taken down
    false_positive = "false_positive"  # decided: nothing wrong, the track stays


class FalsePositiveReason(enum.StrEnum):
    fingerprint_noise = "fingerprint_noise"
    original_artist = "original_artist"
    fair_use = "fair_use"
    other = "other"


class ModerationFlag(Base):
    """A match over the threshold: a track that sounds like a reference work or another
    artist's track, with where (time ranges on both sides) and how sure (0 to 100)."""

    __tablename__ = "moderation_flags"
    __table_args__ = (
        # One flag per (track, what it matched); a new scan updates it.
        UniqueConstraint("track_id", "match_key", name="uq_moderation_flags_track_match"),
        Index("ix_moderation_flags_status_score", "status", "score"),
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
        NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    # "work:<id>" or "track:<id>": what it matched, unique per track.
    match_key: Mapped[str] = mapped_column(String(64))
    reference_work_id: Mapped[int | None] = mapped_column(
        ForeignKey("reference_works.id", ondelete="CASCADE"), index=True
    )
    matched_track_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracks.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[int] = mapped_column(Integer)
    # [{"start": s, "end": s, "matched_start": s, "matched_end": s}, …] in seconds.
    ranges: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    engine: Mapped[str] = mapped_column(String(32))
    status: Mapped[FlagStatus] = mapped_column(
        Enum(FlagStatus, native_enum=False, length=16, validate_strings=True),
        default=FlagStatus.open,
    )
    reason: Mapped[FalsePositiveReason | None] = mapped_column(
        Enum(FalsePositiveReason, native_enum=False, length=32, validate_strings=True)
    )
    note: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(256))
    resolved_at: Mapped[datetime | None] = mapped_column()
    # The artist's one reply; an appeal returns a decided flag to the queue.
    appeal_text: Mapped[str | None] = mapped_column(Text)
    appealed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ModerationEvent(Base):
    """The audit log: who decided what, about what, and when. Rows are never changed."""

    __tablename__ = "moderation_events"
    __table_args__ = (Index("ix_moderation_events_subject", "subject"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(256))  # an admin's DID, "cli", or "system"
    action: Mapped[str] = mapped_column(String(64))  # e.g. "flag.violation", "track.delete"
    subject: Mapped[str] = mapped_column(String(2048))  # "flag:12", "track:34", "account:did…"
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Label(Base):
    """A signed label plyr's labeler issued, in the order it was issued (`seq`): what
    `com.atproto.label.queryLabels` and `subscribeLabels` serve. A retraction is a new row
    with `neg`; rows are never changed."""

    __tablename__ = "labels"
    __table_args__ = (Index("ix_labels_uri_val", "uri", "val"), NEVER_REUSED)

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    src: Mapped[str] = mapped_column(String(2048))
    uri: Mapped[str] = mapped_column(String(2048))
    cid: Mapped[str | None] = mapped_column(String(128))
    val: Mapped[str] = mapped_column(String(128))
    neg: Mapped[bool] = mapped_column(Boolean, default=False)
    # The exact strings that were signed (a re-formatted datetime would break the signature).
    cts: Mapped[str] = mapped_column(String(64))
    exp: Mapped[str | None] = mapped_column(String(64))
    sig: Mapped[bytes] = mapped_column(LargeBinary)
