"""Jams: listening together. The server holds each jam's state (`plyr.listening.jams`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from plyr.db.models.base import Base, utcnow


class Jam(Base):
    """One jam: its host, what plays and where, and the tracks that follow.

    The position is `position_ms` at the server's clock `anchor_ms` (Unix ms): while
    `playing`, every member is at `position_ms + (now - anchor_ms)`. `version` goes up with
    every change (members too), which is how other web processes notice one. The code is
    the jam's address (`/jam/{code}`): random, unguessable, never reused.
    """

    __tablename__ = "jams"
    __table_args__ = (Index("ix_jams_host_did", "host_did"),)

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    host_did: Mapped[str] = mapped_column(ForeignKey("artists.did", ondelete="CASCADE"))
    track_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracks.id", ondelete="SET NULL"), nullable=True
    )
    position_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    anchor_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    playing: Mapped[bool] = mapped_column(Boolean, default=False)
    # The upcoming tracks' ids, in order (what plays after the current one).
    queue: Mapped[list[int]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)


class JamMember(Base):
    """Someone in a jam (the host too); the earliest joined takes over when the host leaves."""

    __tablename__ = "jam_members"
    __table_args__ = (Index("ix_jam_members_did", "did"),)

    jam_code: Mapped[str] = mapped_column(
        ForeignKey("jams.code", ondelete="CASCADE"), primary_key=True
    )
    did: Mapped[str] = mapped_column(
        ForeignKey("artists.did", ondelete="CASCADE"), primary_key=True
    )
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
