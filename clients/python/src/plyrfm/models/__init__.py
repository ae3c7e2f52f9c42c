"""The SDK's models, one per schema of plyr's API (see `base.PlyrModel`)."""

from plyrfm.models.base import PlyrModel
from plyrfm.models.discovery import SearchGroup, SearchHit, SearchResults, Stats
from plyrfm.models.exports import ErrorBody, ErrorDetail, Export
from plyrfm.models.people import Me, NowPlaying, Person, PlayingTrack, Profile
from plyrfm.models.social import (
    Comment,
    CommentEdit,
    CommentIn,
    ItemIn,
    LikedTracks,
    LikeState,
    ListDetail,
    ListEntry,
    ListIn,
    ListKind,
    ListRename,
    ListSummary,
    TagCount,
)
from plyrfm.models.tracks import (
    DownloadProgress,
    Lyrics,
    LyricsEdit,
    Progress,
    RankedTrack,
    Track,
    TrackEdit,
    TrackPage,
    TrackSummary,
    UploadAccepted,
    UploadProgress,
)

__all__ = [
    "Comment",
    "CommentEdit",
    "CommentIn",
    "DownloadProgress",
    "ErrorBody",
    "ErrorDetail",
    "Export",
    "ItemIn",
    "LikeState",
    "LikedTracks",
    "ListDetail",
    "ListEntry",
    "ListIn",
    "ListKind",
    "ListRename",
    "ListSummary",
    "Lyrics",
    "LyricsEdit",
    "Me",
    "NowPlaying",
    "Person",
    "PlayingTrack",
    "PlyrModel",
    "Profile",
    "Progress",
    "RankedTrack",
    "SearchGroup",
    "SearchHit",
    "SearchResults",
    "Stats",
    "TagCount",
    "Track",
    "TrackEdit",
    "TrackPage",
    "TrackSummary",
    "UploadAccepted",
    "UploadProgress",
]


def schema_models() -> dict[str, type[PlyrModel]]:
    """Every model that mirrors a server schema, by that schema's name."""
    found: dict[str, type[PlyrModel]] = {}
    for name in __all__:
        model = globals()[name]
        if isinstance(model, type) and issubclass(model, PlyrModel) and model.__schema__:
            found[model.__schema__] = model
    return found
