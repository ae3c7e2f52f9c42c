"""Artists and their tracks: the catalogue, its tags, and the uploads on their way in.

`Artist` is every ATProto identity that signed in, listeners too; it sits here with `Track`
because each names the other in a relationship (`Artist.tracks`, `Track.artist`), and one
module keeps that pair free of an import cycle.
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
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plyr.db.models.base import NEVER_REUSED, Base, BigIntPK, utcnow


class Artist(Base):
    """An ATProto identity that signed in to plyr (artist or listener)."""

    __tablename__ = "artists"
    __table_args__ = (
        # Listings leave out hidden accounts with one `NOT IN (hidden)`: a small partial index.
        Index(
            "ix_artists_hidden_at",
            "hidden_at",
            sqlite_where=text("hidden_at IS NOT NULL"),
            postgresql_where=text("hidden_at IS NOT NULL"),
        ),
    )

    did: Mapped[str] = mapped_column(String(2048), primary_key=True)
    handle: Mapped[str] = mapped_column(String(253), index=True)
    display_name: Mapped[str | None] = mapped_column(String(640))
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    pds_url: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # An operator hid all of this account's content (moderation); cleared to show it again.
    hidden_at: Mapped[datetime | None] = mapped_column()
    hidden_reason: Mapped[str | None] = mapped_column(Text)

    tracks: Mapped[list[Track]] = relationship(back_populates="artist")


class PublishState(enum.StrEnum):
    """Where a track stands on its way to the artist's PDS."""

    processing = "processing"  # upload received; the media job runs
    publishing = "publishing"  # media ready; the record is being written
    published = "published"  # the record is in the PDS
    failed = "failed"  # gave up; the error says why


class Track(Base):
    __tablename__ = "tracks"
    __table_args__ = (
        CheckConstraint("play_count >= 0", name="play_count_non_negative"),
        CheckConstraint("duration_seconds IS NULL OR duration_seconds >= 0", name="duration"),
        Index("ix_tracks_artist_did_created_at", "artist_did", "created_at"),
        # An artist's published tracks, newest first (artist page, its ?before= pages).
        Index(
            "ix_tracks_artist_did_publish_state_created_at",
            "artist_did",
            "publish_state",
            "created_at",
        ),
        Index("ix_tracks_publish_state_created_at", "publish_state", "created_at"),
        # The (few) taken-down tracks, found without a scan (`/media/{key}` asks among them).
        Index(
            "ix_tracks_taken_down_at",
            "taken_down_at",
            sqlite_where=text("taken_down_at IS NOT NULL"),
            postgresql_where=text("taken_down_at IS NOT NULL"),
        ),
        # The same file uploaded twice by one artist is a duplicate; two artists may share bytes.
        UniqueConstraint("artist_did", "content_hash", name="uq_tracks_artist_content"),
        UniqueConstraint("artist_did", "rkey", name="uq_tracks_artist_rkey"),
        NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    artist_did: Mapped[str] = mapped_column(ForeignKey("artists.did", ondelete="CASCADE"))
    # The fields of the fm.plyr.track record.
    title: Mapped[str] = mapped_column(String(256))
    artist_name: Mapped[str] = mapped_column(String(256))
    album: Mapped[str | None] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text)
    features: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    file_type: Mapped[str] = mapped_column(String(16))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    image_url: Mapped[str | None] = mapped_column(String(2048))
    # Media: content hash of the original upload, and the storage keys of what we keep.
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    original_key: Mapped[str] = mapped_column(String(512))
    stream_key: Mapped[str | None] = mapped_column(String(512))
    stream_content_type: Mapped[str | None] = mapped_column(String(128))
    image_key: Mapped[str | None] = mapped_column(String(512))
    thumbnail_key: Mapped[str | None] = mapped_column(String(512))
    # The waveform's peaks (`plyr.tracks.waveforms`, migration 0018): None until computed,
    # "" when the audio can't give one (not asked again until the audio changes).
    waveform_key: Mapped[str | None] = mapped_column(String(512))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    codec: Mapped[str | None] = mapped_column(String(32))
    sample_rate: Mapped[int | None] = mapped_column(Integer)
    channels: Mapped[int | None] = mapped_column(Integer)
    loudness_lufs: Mapped[float | None] = mapped_column(Float)
    gain_db: Mapped[float | None] = mapped_column(Float)
    # The record in the artist's PDS: rkey is chosen before the first write.
    rkey: Mapped[str] = mapped_column(String(512))
    atproto_uri: Mapped[str | None] = mapped_column(String(2048), unique=True)
    atproto_cid: Mapped[str | None] = mapped_column(String(128))
    publish_state: Mapped[PublishState] = mapped_column(
        Enum(PublishState, native_enum=False, length=16, validate_strings=True),
        default=PublishState.processing,
    )
    publish_error: Mapped[str | None] = mapped_column(Text)
    # Whether the audio also went into the PDS as the record's audioBlob.
    audio_blob_cid: Mapped[str | None] = mapped_column(String(128))
    # Whether the artwork also went into the PDS (the record's imageBlob): a rebuild from
    # the network then gets the artwork back even when plyr's media store is gone.
    image_blob_cid: Mapped[str | None] = mapped_column(String(128))
    play_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # Taken down by an operator (moderation): out of every listing, its audio answers 451;
    # the record stays in the artist's PDS. Cleared when the decision is reversed.
    taken_down_at: Mapped[datetime | None] = mapped_column()
    takedown_reason: Mapped[str | None] = mapped_column(Text)
    # Who took it down: "flag" (a copyright decision, undone when its flags clear) or
    # "admin" (an operator's own takedown: only an operator's restore undoes it).
    takedown_source: Mapped[str | None] = mapped_column(String(16))
    # The repo revision of the commit behind the indexed version (an older echo is skipped).
    atproto_rev: Mapped[str | None] = mapped_column(String(32))
    # Creator-applied content warnings: the values of the record's `labels`
    # (`com.atproto.label.defs#selfLabels`), e.g. ["sexual"].
    self_labels: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    # The real plyr.fm's `supportGate` ({"type": "any"}), kept as the record says.
    support_gate: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The record's `lyrics` ({"plain", "synced" (LRC), "lang"}, any part left out), as
    # `plyr.tracks.lyrics` checked it; None when the track has none.
    lyrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Tracks indexed from the network (another client, a backfill) fetch their audio from
    # the record's audioBlob or audioUrl: `audio_url` is the record's URL; `audio_state` is
    # "ready" (playable), "pending" (being fetched) or "unplayable" (`audio_error` says why).
    audio_url: Mapped[str | None] = mapped_column(String(2048))
    audio_state: Mapped[str] = mapped_column(
        String(16), default="ready", server_default=text("'ready'")
    )
    audio_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    artist: Mapped[Artist] = relationship(back_populates="tracks")


class UploadStatus(enum.StrEnum):
    processing = "processing"  # received; the processing job runs
    done = "done"  # a track exists (it may still be publishing)
    failed = "failed"  # refused or broken; `error` says why


class Upload(Base):
    """An upload in flight: what the form said, where the raw files wait, how far it got."""

    __tablename__ = "uploads"
    __table_args__ = (Index("ix_uploads_artist_did_created_at", "artist_did", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    artist_did: Mapped[str] = mapped_column(ForeignKey("artists.did", ondelete="CASCADE"))
    session_id: Mapped[str | None] = mapped_column(String(64))  # who asked: publishes as them
    status: Mapped[UploadStatus] = mapped_column(
        Enum(UploadStatus, native_enum=False, length=16, validate_strings=True),
        default=UploadStatus.processing,
    )
    filename: Mapped[str] = mapped_column(String(512))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    audio_format: Mapped[str] = mapped_column(String(16))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    incoming_audio_key: Mapped[str | None] = mapped_column(String(512))
    incoming_image_key: Mapped[str | None] = mapped_column(String(512))
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id", ondelete="SET NULL"))
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


class TrackTag(Base):
    __tablename__ = "track_tags"
    __table_args__ = (Index("ix_track_tags_tag_id", "tag_id"),)

    track_id: Mapped[int] = mapped_column(
        ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # the artist's order
