"""Likes, comments, lists (playlists and albums) and tags."""

from __future__ import annotations

from typing import Literal

from plyrfm.models.base import PlyrModel
from plyrfm.models.people import Person
from plyrfm.models.tracks import TrackSummary

ListKind = Literal["album", "playlist", "liked"]


class LikeState(PlyrModel):
    """Whether you like a track now, and how many do."""

    __schema__ = "LikeOut"

    track_id: int
    liked: bool
    likes: int
    record_state: str | None
    uri: str | None


class LikedTracks(PlyrModel):
    """The tracks someone liked."""

    __schema__ = "LikedOut"

    user: Person
    tracks: list[TrackSummary]


class Comment(PlyrModel):
    """A comment on a track, at a moment of it (`timestamp_ms`)."""

    __schema__ = "CommentOut"

    id: int
    track_id: int
    author: Person | None
    text: str
    timestamp_ms: int
    created_at: str
    updated_at: str | None
    record_state: str
    record_error: str | None
    uri: str


class CommentIn(PlyrModel):
    """The body of a new comment."""

    __schema__ = "CommentIn"

    text: str
    timestamp_ms: int = 0


class CommentEdit(PlyrModel):
    """The body of a comment's edit."""

    __schema__ = "CommentEdit"

    text: str


class ListSummary(PlyrModel):
    """A playlist or album (or a liked list), without its tracks."""

    __schema__ = "ListOut"

    id: int
    did: str
    type: ListKind
    name: str | None
    item_count: int
    image_url: str | None
    thumbnail_url: str | None
    created_at: str
    updated_at: str
    record_state: str
    record_error: str | None
    uri: str


class ListEntry(PlyrModel):
    """One entry of a list; `track` is None when the track is gone or not visible.
    `item_id` removes it (`remove_from_list`)."""

    __schema__ = "EntryOut"

    item_id: int
    position: int
    subject_uri: str
    track: TrackSummary | None


class ListDetail(ListSummary):
    """A list with its entries, in order."""

    __schema__ = "ListDetail"

    entries: list[ListEntry]


class ListIn(PlyrModel):
    """The body of a new list."""

    __schema__ = "ListIn"

    type: Literal["album", "playlist"]
    name: str
    track_ids: list[int] = []


class ListRename(PlyrModel):
    """The body of a list's new name."""

    __schema__ = "ListRename"

    name: str


class ItemIn(PlyrModel):
    """The body adding a track to a list."""

    __schema__ = "ItemIn"

    track_id: int


class TagCount(PlyrModel):
    """A tag and how many published tracks carry it."""

    __schema__ = "TagCount"

    name: str
    tracks: int
