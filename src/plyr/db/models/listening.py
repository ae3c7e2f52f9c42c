"""What listeners do with tracks: counted plays, their play queues, what they play now."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from plyr.db.models.base import NEVER_REUSED, Base, BigIntPK, utcnow


class Play(Base):
    """One counted listen (at 30 % of the track or 30 s); `listen_id` makes it count once."""

    __tablename__ = "plays"
    __table_args__ = (
        Index("ix_plays_track_id_created_at", "track_id", "created_at"),
        # Plays in a time window (top tracks): one index-only range scan.
        Index("ix_plays_created_at_track_id", "created_at", "track_id"),
        NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    listener_did: Mapped[str | None] = mapped_column(String(2048), index=True)
    listen_id: Mapped[str] = mapped_column(String(64), unique=True)
    listened_ms: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlayQueue(Base):
    """A signed-in listener's queue, kept on the server so every device sees the same one.

    `revision` goes up with every change; a write names the revision it started from, and
    a stale one is refused (two devices never silently overwrite each other).
    """

    __tablename__ = "play_queues"

    did: Mapped[str] = mapped_column(
        ForeignKey("artists.did", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, default=0)
    track_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    current: Mapped[int] = mapped_column(Integer, default=0)
    position_ms: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NowPlaying(Base):
    """What a listener's player reports it is playing, shared by every web process.

    A row counts while `expires_at` is in the future; each report pushes it on, so a player
    that goes silent drops out on its own (no per-process memory holds it).
    """

    __tablename__ = "now_playing"
    __table_args__ = (Index("ix_now_playing_expires_at", "expires_at"),)

    did: Mapped[str] = mapped_column(
        ForeignKey("artists.did", ondelete="CASCADE"), primary_key=True
    )
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    position_ms: Mapped[int] = mapped_column(Integer, default=0)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class PlayWindow(Base):
    """Where a window's counts in `track_window_plays` start: plays at or after `edge`
    (one row each for day, week and month; `plyr.listening.windows` moves them on)."""

    __tablename__ = "play_windows"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    edge: Mapped[datetime] = mapped_column()


class TrackWindowPlays(Base):
    """A track's plays at or after each window's edge, kept in step with `plays` by its
    triggers (migration 0016): top tracks read these instead of counting plays."""

    __tablename__ = "track_window_plays"
    __table_args__ = (
        Index("ix_track_window_plays_day", "day"),
        Index("ix_track_window_plays_week", "week"),
        Index("ix_track_window_plays_month", "month"),
    )

    track_id: Mapped[int] = mapped_column(
        ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    day: Mapped[int] = mapped_column(Integer, default=0)
    week: Mapped[int] = mapped_column(Integer, default=0)
    month: Mapped[int] = mapped_column(Integer, default=0)
