"""People: the signed-in caller, a person in a list, a profile, what someone plays now."""

from __future__ import annotations

from plyrfm.models.base import PlyrModel


class Me(PlyrModel):
    """The caller: who the token belongs to and what it may do."""

    __schema__ = "Me"

    did: str
    handle: str
    display_name: str | None
    via: str
    scope: list[str]


class Person(PlyrModel):
    """Someone, briefly (a commenter, a liker)."""

    __schema__ = "Person"

    did: str
    handle: str
    display_name: str | None
    avatar_url: str | None


class Profile(PlyrModel):
    """A user's profile."""

    __schema__ = "ProfileOut"

    did: str
    handle: str
    display_name: str | None
    avatar_url: str | None
    bio: str | None
    record_state: str | None
    uri: str | None


class PlayingTrack(PlyrModel):
    """The track in a now-playing status."""

    __schema__ = "PlayingTrack"

    id: int
    title: str
    artist: str
    artist_did: str
    duration: int | None
    url: str
    image_url: str | None
    thumbnail_url: str | None


class NowPlaying(PlyrModel):
    """What someone is listening to right now, and where in the track."""

    __schema__ = "NowPlayingOut"

    did: str
    handle: str | None
    track: PlayingTrack
    position_ms: int
    paused: bool
    updated_at: str
    expires_at: str
