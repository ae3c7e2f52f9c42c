"""The schema. Alembic migrations in plyr/migrations are generated from and checked against it.

One module per domain; importing this package imports them all, so `Base.metadata` holds
every table and relationships named by string resolve. Import models from here.
"""

from plyr.db.models.auth import AuthSession, OAuthRequest, SessionKind, SubsonicPassword
from plyr.db.models.base import Base, UTCDateTime, utcnow
from plyr.db.models.jams import Jam, JamMember
from plyr.db.models.listening import NowPlaying, Play, PlayQueue, PlayWindow, TrackWindowPlays
from plyr.db.models.moderation import (
    FalsePositiveReason,
    FlagStatus,
    Label,
    ModerationEvent,
    ModerationFlag,
    ReferenceWork,
    TrackFingerprint,
)
from plyr.db.models.operations import (
    BackfillRepo,
    Export,
    IngestCursor,
    Job,
    JobStatus,
    RateLimitHit,
)
from plyr.db.models.social import (
    Comment,
    Like,
    ListItem,
    ListType,
    MusicList,
    Preferences,
    Profile,
    RecordState,
    SensitiveImage,
    SyncedRecord,
)
from plyr.db.models.tracks import (
    Artist,
    PublishState,
    Tag,
    Track,
    TrackTag,
    Upload,
    UploadStatus,
)

__all__ = [
    "Artist",
    "AuthSession",
    "BackfillRepo",
    "Base",
    "Comment",
    "Export",
    "FalsePositiveReason",
    "FlagStatus",
    "IngestCursor",
    "Jam",
    "JamMember",
    "Job",
    "JobStatus",
    "Label",
    "Like",
    "ListItem",
    "ListType",
    "ModerationEvent",
    "ModerationFlag",
    "MusicList",
    "NowPlaying",
    "OAuthRequest",
    "Play",
    "PlayQueue",
    "PlayWindow",
    "Preferences",
    "Profile",
    "PublishState",
    "RateLimitHit",
    "RecordState",
    "ReferenceWork",
    "SensitiveImage",
    "SessionKind",
    "SubsonicPassword",
    "SyncedRecord",
    "Tag",
    "Track",
    "TrackFingerprint",
    "TrackTag",
    "TrackWindowPlays",
    "UTCDateTime",
    "Upload",
    "UploadStatus",
    "utcnow",
]
