"""The schema. Alembic migrations in plyr/migrations are generated from and checked against it."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: plyr stores UTC-aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Integer primary keys that autoincrement on SQLite too (BIGINT is not a rowid alias there).
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Artist(Base):
    """An ATProto identity that signed in to plyr (artist or listener)."""

    __tablename__ = "artists"

    did: Mapped[str] = mapped_column(String(2048), primary_key=True)
    handle: Mapped[str] = mapped_column(String(253), index=True)
    display_name: Mapped[str | None] = mapped_column(String(640))
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    pds_url: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

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
        # The same file uploaded twice by one artist is a duplicate; two artists may share bytes.
        UniqueConstraint("artist_did", "content_hash", name="uq_tracks_artist_content"),
        UniqueConstraint("artist_did", "rkey", name="uq_tracks_artist_rkey"),
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
    play_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    artist: Mapped[Artist] = relationship(back_populates="tracks")


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


class SessionKind(enum.StrEnum):
    browser = "browser"  # the cookie of a signed-in browser
    dev_token = "dev_token"  # noqa: S105 - a developer token (`Bearer …`), its own grant


class AuthSession(Base):
    """A signed-in browser or a developer token, each holding its own OAuth grant.

    The id is the SHA-256 of the secret the user holds (cookie value or token), so the
    table alone lets no one sign in. OAuth tokens and the DPoP key are encrypted (`secrets`).
    """

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_did_kind", "did", "kind"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[SessionKind] = mapped_column(
        Enum(SessionKind, native_enum=False, length=16, validate_strings=True)
    )
    did: Mapped[str] = mapped_column(ForeignKey("artists.did", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(String(100))
    token_hint: Mapped[str | None] = mapped_column(String(32))  # "plyr_ab12…" for lists
    issuer: Mapped[str] = mapped_column(String(2048))
    pds_url: Mapped[str] = mapped_column(String(2048))
    scope: Mapped[str] = mapped_column(Text)
    secrets: Mapped[bytes] = mapped_column(LargeBinary)
    access_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A lease, not a transaction: one process refreshes while the others wait for it.
    refresh_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthRequest(Base):
    """An authorization in flight, from the redirect to the PDS until the callback."""

    __tablename__ = "oauth_requests"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))  # login | upgrade | dev_token
    issuer: Mapped[str] = mapped_column(String(2048))
    expected_did: Mapped[str | None] = mapped_column(String(2048))
    scope: Mapped[str] = mapped_column(Text)
    # PKCE verifier and DPoP key, encrypted like session secrets.
    secrets: Mapped[bytes] = mapped_column(LargeBinary)
    # For upgrades and developer tokens: the browser session that asked.
    session_id: Mapped[str | None] = mapped_column(String(64))
    token_name: Mapped[str | None] = mapped_column(String(100))
    token_days: Mapped[int | None] = mapped_column(Integer)
    return_to: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RateLimitHit(Base):
    """Fixed-window counters shared by every process (sign-in, uploads, writes)."""

    __tablename__ = "rate_limit_hits"

    bucket: Mapped[str] = mapped_column(String(300), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


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


class Play(Base):
    """One counted listen (at 30 % of the track or 30 s); `listen_id` makes it count once."""

    __tablename__ = "plays"
    __table_args__ = (
        Index("ix_plays_track_id_created_at", "track_id", "created_at"),
        # Plays in a time window (top tracks): one index-only range scan.
        Index("ix_plays_created_at_track_id", "created_at", "track_id"),
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


# --- records users publish besides tracks (likes, comments, lists, profiles) -------------


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
    __table_args__ = (UniqueConstraint("did", name="uq_profiles_did"),)

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
    hidden_tags: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["ai"])
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SensitiveImage(Base):
    """Artwork an operator flagged: blurred for users who have not opted in, never previewed."""

    __tablename__ = "sensitive_images"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    image_key: Mapped[str | None] = mapped_column(String(512), unique=True)
    url: Mapped[str | None] = mapped_column(String(2048), unique=True)
    reason: Mapped[str | None] = mapped_column(Text)
    flagged_by: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
