"""What a track's page and an artist's page read, in a few statements.

Each page once called a domain function per thing it shows (the track, its tags, likes,
whether the viewer liked it, the album, comments, whether comments are on, who liked it):
a statement each, and a session each. Here the single values ride on the one row the page
cannot do without, as scalar subqueries, and the lists follow in one statement each:
four statements for a track's page, four for an artist's (more when the artist shows
their likes). The statements are built once (their compiled SQL stays cached); what is
only shown is read as columns, not ORM objects.

The rules are the ones the domain functions apply, from the same clauses: like counts
(`like_count_of`) and comments leave out hidden accounts, likers too, the track's
visibility is `check_playable`, the artist's is `listed_artist`, the track counts are of
what listeners may meet (`track_listed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, and_, bindparam, exists, func, select
from sqlalchemy.orm import joinedload

from plyr.db.models import (
    Artist,
    Comment,
    Like,
    ListItem,
    ListType,
    MusicList,
    Preferences,
    Profile,
    PublishState,
    Track,
)
from plyr.db.text import storable
from plyr.db.visibility import account_listed, track_listed
from plyr.errors import ServiceError
from plyr.runtime import Runtime
from plyr.social.likes import like_count_of
from plyr.social.tags import track_tags
from plyr.tracks.catalogue import check_playable, listed_artist

MAX_COMMENTS = 500  # as `social.comments.comments_on`
MAX_LIKERS = 50  # as `social.likes.likers`

# --- a track's page ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrackPageRead:
    track: Track
    tags: list[str]
    like_count: int
    liked: bool  # by the viewer
    album_id: int | None  # the artist's album holding the track
    comments_allowed: bool
    comments: list[Comment]  # with their authors, in playback order
    likers: list[Row[str, str | None]]  # handle, avatar_url; most recent like first


_like_count = like_count_of(Track.id)
_liked = exists().where(Like.did == bindparam("viewer"), Like.track_id == Track.id)
_allow_comments = (
    select(Preferences.allow_comments)
    .where(Preferences.did == Track.artist_did)
    .correlate(Track)
    .scalar_subquery()
)
_album = (
    select(MusicList.id)
    .join(ListItem, ListItem.list_id == MusicList.id)
    .where(
        ListItem.track_id == Track.id,
        MusicList.list_type == ListType.album,
        MusicList.did == Track.artist_did,
    )
    .correlate(Track)
    .order_by(MusicList.id)
    .limit(1)
    .scalar_subquery()
)
_TRACK = (
    select(Track, Artist, _like_count, _liked, _allow_comments, _album)
    .outerjoin(Artist, Artist.did == Track.artist_did)
    .where(Track.id == bindparam("track_id"))
)
_COMMENTS = (
    select(Comment)
    .options(joinedload(Comment.author))
    .where(Comment.track_id == bindparam("track_id"), account_listed(Comment.did))
    .order_by(Comment.timestamp_ms, Comment.created_at, Comment.id)
    .limit(MAX_COMMENTS)
)
_LIKERS = (
    select(Artist.handle, Artist.avatar_url)
    .join(Like, Like.did == Artist.did)
    .where(Like.track_id == bindparam("track_id"), Artist.hidden_at.is_(None))
    .order_by(Like.created_at.desc(), Like.id.desc())
    .limit(MAX_LIKERS)
)


async def track_page_read(
    runtime: Runtime, track_id: int, viewer_did: str | None, *, admin: bool = False
) -> TrackPageRead:
    """What a track's page shows, under `playable_track`'s rules for the page: its artist
    still sees it taken down (with the notice), and a track whose audio is not here has
    its page too (saying why)."""
    params = {"track_id": track_id, "viewer": viewer_did}
    async with runtime.sessions() as db:
        found = (await db.execute(_TRACK, params)).first()
        if found is None:
            raise ServiceError(404, "not_found", "there is no such track")
        track, artist, like_count, liked, allow_comments, album_id = found
        check_playable(
            track, artist, viewer_did, admin=admin, owner_sees=True, audio_required=False
        )
        tags = await track_tags(db, track_id)
        comments = list((await db.execute(_COMMENTS, params)).scalars())
        likers = list((await db.execute(_LIKERS, params)).all())
        db.expunge_all()
    return TrackPageRead(
        track=track,
        tags=tags,
        like_count=int(like_count or 0),
        liked=bool(liked),
        album_id=album_id,
        comments_allowed=allow_comments is None or bool(allow_comments),
        comments=comments,
        likers=likers,
    )


# --- an artist's page ---------------------------------------------------------------------


# id, list_type, name, image_key, thumbnail_key, entries
ListRow = Row[int, ListType, str | None, str | None, str | None, int]


@dataclass(frozen=True, slots=True)
class ArtistPageRead:
    artist: Artist
    bio: str | None
    shows_likes: bool  # their liked tracks are public
    track_count: int  # published tracks listeners may meet
    albums: list[tuple[ListRow, int]]  # each with how many entries it has
    playlists: list[tuple[ListRow, int]]


_bio = select(Profile.bio).where(Profile.did == Artist.did).correlate(Artist).scalar_subquery()
_shows_likes = (
    select(Preferences.show_liked)
    .where(Preferences.did == Artist.did)
    .correlate(Artist)
    .scalar_subquery()
)
_track_count = (
    select(func.count())
    .select_from(Track)
    .where(
        and_(
            Track.artist_did == Artist.did,
            Track.publish_state == PublishState.published,
            track_listed(),
        )
    )
    .correlate(Artist)
    .scalar_subquery()
)


def _artist_by(column: Any) -> Any:
    return (
        select(Artist, _bio, _shows_likes, _track_count).where(column == bindparam("key")).limit(1)
    )


_ARTIST_BY_DID = _artist_by(Artist.did)
_ARTIST_BY_HANDLE = _artist_by(Artist.handle)
_LISTS = (
    select(
        MusicList.id,
        MusicList.list_type,
        MusicList.name,
        MusicList.image_key,
        MusicList.thumbnail_key,
        func.count(ListItem.id),
    )
    .outerjoin(ListItem, ListItem.list_id == MusicList.id)
    .where(
        MusicList.did == bindparam("did"),
        MusicList.list_type.in_([ListType.album, ListType.playlist]),
    )
    .group_by(MusicList.id)
    .order_by(MusicList.created_at.desc(), MusicList.id.desc())
)


async def artist_page_read(
    runtime: Runtime, handle_or_did: str, viewer_did: str | None, *, admin: bool = False
) -> ArtistPageRead:
    """An artist (by handle or DID, as `plyr.artists.find_artist`) with what their page
    shows besides tracks; a hidden account is Unavailable (451) but to its owner and
    operators."""
    key = handle_or_did.removeprefix("@").lower()
    if not storable(key):  # no handle or DID has one; PostgreSQL would refuse the query
        raise ServiceError(404, "not_found", "no such artist on plyr")
    query = _ARTIST_BY_DID if key.startswith("did:") else _ARTIST_BY_HANDLE
    async with runtime.sessions() as db:
        found = (await db.execute(query, {"key": key})).first()
        if found is None:
            raise ServiceError(404, "not_found", f"no artist @{key} on plyr yet")
        artist, bio, shows_likes, track_count = found
        listed_artist(artist, viewer_did, admin=admin)
        lists = (await db.execute(_LISTS, {"did": artist.did})).all()
        db.expunge_all()
    return ArtistPageRead(
        artist=artist,
        bio=bio,
        shows_likes=bool(shows_likes),
        track_count=int(track_count or 0),
        albums=[(row, int(row[5])) for row in lists if row.list_type == ListType.album],
        playlists=[(row, int(row[5])) for row in lists if row.list_type == ListType.playlist],
    )
