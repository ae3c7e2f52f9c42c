"""What users publish and choose besides tracks: likes, comments, lists, profiles, preferences.

Likes, comments, lists and profiles are records in the user's PDS too (`SyncedRecord` holds
the columns they share); preferences stay on plyr, as do the artwork flags operators set.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from plyr.db.models.base import NEVER_REUSED, Base, BigIntPK, utcnow
from plyr.db.models.tracks import Artist


class RecordState(enum.StrEnum):
    """Whether the user's PDS holds what the index row says (see plyr/social/sync.py)."""

    pending = "pending"  # changed here; the record.sync job is taking it to the PDS
    published = "published"  # the PDS holds this version
    failed = "failed"  # the PDS refused it or plyr lost the right to write; `record_error` says why


class SyncedRecord:
    """Columns of an index row that is also a record in its owner's PDS.

    `rkey` is chosen before the first write so retries never duplicate; `sync_version` goes
    up with every local change, and a sync only marks the row published if no change came
    in while it wrote (else it writes again).
    """

    rkey: Mapped[str] = mapped_column(String(512))
    atproto_uri: Mapped[str | None] = mapped_column(String(2048))
    atproto_cid: Mapped[str | None] = mapped_column(String(128))
    # The repo revision that wrote the indexed version: an echo of an older commit arriving
    # late through the firehose must not overwrite a newer version (migration 0011).
    atproto_rev: Mapped[str | None] = mapped_column(String(32))
    record_state: Mapped[RecordState] = mapped_column(
        Enum(RecordState, native_enum=False, length=16, validate_strings=True),
        default=RecordState.pending,
    )
    record_error: Mapped[str | None] = mapped_column(Text)
    sync_version: Mapped[int] = mapped_column(Integer, default=1)

    @declared_attr
    def did(cls) -> Mapped[str]:
        return mapped_column(ForeignKey("artists.did", ondelete="CASCADE"), index=True)


class Like(SyncedRecord, Base):
    """`did` likes a track: an `fm.plyr.like` record with a strongRef to the track."""

    __tablename__ = "likes"
    __table_args__ = (
        UniqueConstraint("did", "track_id", name="uq_likes_did_track"),
        UniqueConstraint("did", "rkey", name="uq_likes_did_rkey"),
        Index("ix_likes_track_id_created_at", "track_id", "created_at"),
        # A listener's likes newest first (their liked page, `GET /api/me/likes`).
        Index("ix_likes_did_created_at", "did", "created_at"),
        NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    # The track version the like points at, as it was when liked (a strongRef pins it).
    subject_cid: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Comment(SyncedRecord, Base):
    """A timed comment: `fm.plyr.comment`, at `timestamp_ms` into the track."""

    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("did", "rkey", name="uq_comments_did_rkey"),
        Index("ix_comments_track_id_timestamp_ms", "track_id", "timestamp_ms"),
        CheckConstraint("timestamp_ms >= 0", name="timestamp_non_negative"),
        NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    subject_cid: Mapped[str | None] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    timestamp_ms: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column()

    author: Mapped[Artist] = relationship(foreign_keys="Comment.did", viewonly=True)


class ListType(enum.StrEnum):
    album = "album"
    playlist = "playlist"
    liked = "liked"


class MusicList(SyncedRecord, Base):
    """An album, a playlist, or a user's liked tracks: one `fm.plyr.list` record each.

    `unique_key` keeps one album per name and one liked list per user (NULL for playlists,
    which may share names).
    """

    __tablename__ = "lists"
    __table_args__ = (
        UniqueConstraint("did", "rkey", name="uq_lists_did_rkey"),
        UniqueConstraint("did", "list_type", "unique_key", name="uq_lists_did_type_key"),
        Index("ix_lists_list_type_created_at", "list_type", "created_at"),
        NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    list_type: Mapped[ListType] = mapped_column(
        Enum(ListType, native_enum=False, length=16, validate_strings=True)
    )
    name: Mapped[str | None] = mapped_column(String(256))
    unique_key: Mapped[str | None] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text)
    image_key: Mapped[str | None] = mapped_column(String(512))
    thumbnail_key: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    items: Mapped[list[ListItem]] = relationship(
        back_populates="list", order_by="ListItem.position", cascade="all, delete-orphan"
    )


class ListItem(Base):
    """One entry of a list, in display order.

    The subject is kept as written (another client may list records plyr does not index);
    `track_id` links it to a track plyr knows, whose current version is written on sync.
    """

    __tablename__ = "list_items"
    __table_args__ = (
        Index("ix_list_items_list_id_position", "list_id", "position"),
        Index("ix_list_items_track_id", "track_id"),
        NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("lists.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    subject_uri: Mapped[str] = mapped_column(String(2048))
    subject_cid: Mapped[str | None] = mapped_column(String(128))
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))

    list: Mapped[MusicList] = relationship(back_populates="items")


class Profile(SyncedRecord, Base):
    """The `fm.plyr.actor.profile` record (key `self`): the bio written on plyr."""

    __tablename__ = "profiles"
    __table_args__ = (UniqueConstraint("did", name="uq_profiles_did"), NEVER_REUSED)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    bio: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Preferences(Base):
    """What a signed-in user chose, kept on the server so every device agrees."""

    __tablename__ = "preferences"

    did: Mapped[str] = mapped_column(
        ForeignKey("artists.did", ondelete="CASCADE"), primary_key=True
    )
    theme: Mapped[str] = mapped_column(String(8), default="system")
    accent: Mapped[str | None] = mapped_column(String(7))
    auto_advance: Mapped[bool] = mapped_column(Boolean, default=True)
    loudness_levelling: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_comments: Mapped[bool] = mapped_column(Boolean, default=True)
    show_liked: Mapped[bool] = mapped_column(Boolean, default=False)
    show_sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    # Tracks their artists labelled sexual/porn in the home feed and search (migration 0013).
    show_warned_tracks: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    hidden_tags: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["ai"])
    # How the player goes from track to track: off, gapless, crossfade (migration 0019).
    transition: Mapped[str] = mapped_column(String(10), default="off", server_default="off")
    crossfade_seconds: Mapped[int] = mapped_column(
        SmallInteger, default=6, server_default=text("6")
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SensitiveImage(Base):
    """Artwork an operator flagged: blurred for users who have not opted in, never previewed."""

    __tablename__ = "sensitive_images"
    __table_args__ = NEVER_REUSED

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    image_key: Mapped[str | None] = mapped_column(String(512), unique=True)
    url: Mapped[str | None] = mapped_column(String(2048), unique=True)
    reason: Mapped[str | None] = mapped_column(Text)
    flagged_by: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
