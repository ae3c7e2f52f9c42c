"""Finding tracks: one track (for anyone, for its owner, for playing), an artist's tracks,
and keyset pages of tracks, newest first: published ones (the pages; the API's listing as
the home feed or the artist page shows them) and an artist's own in every state.

Listings show only tracks listeners may meet (`plyr.db.visibility.track_listed`: the audio
ready, not taken down, the account not hidden); one such track asked for by id answers 451
with the reason, except to its artist (the track page, with the notice) and to operators
(for review). A track from the network whose audio is still being fetched, or could not be
used, is NotPlayable (409) to everyone where audio is needed (playing, liking, sharing);
its page shows it with a notice saying why (`audio_notice`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Row, Select, bindparam, or_, select, union_all

from plyr.db.keyset import Position, checked_cursor, cursor_for, older_than, parse_cursor
from plyr.db.models import Artist, PublishState, Track
from plyr.db.visibility import (
    AUDIO_PENDING,
    HIDDEN_MESSAGE,
    account_hidden,
    audio_problem,
    track_listed,
    unavailable_reason,
)
from plyr.db.visibility import Unavailable as Unavailable  # one class: domain writes raise it too
from plyr.errors import ServiceError
from plyr.runtime import Runtime
from plyr.tracks.labels import hidden_from_feeds


class NotPlayable(ServiceError):
    """409: the track is there but its audio is not (still being fetched from the record's
    source, or it could not be used); the message says which, and why. Not 404: the page
    must not read "page not found" for a track that exists."""

    def __init__(self, track: Track) -> None:
        super().__init__(
            409,
            "audio_pending" if audio_pending(track) else "unplayable",
            audio_problem(track) or "",
        )


async def get_track(runtime: Runtime, track_id: int) -> Track:
    async with runtime.sessions() as db:
        track = await db.get(Track, track_id)
        if track is None:
            raise ServiceError(404, "not_found", "there is no such track")
        db.expunge(track)
        return track


async def owned_track(runtime: Runtime, track_id: int, did: str) -> Track:
    track = await get_track(runtime, track_id)
    if track.artist_did != did:
        raise ServiceError(403, "forbidden", "only the artist can change this track")
    return track


async def track_with_artist(runtime: Runtime, track_id: int) -> tuple[Track, Artist | None]:
    async with runtime.sessions() as db:
        found = (
            await db.execute(
                select(Track, Artist)
                .outerjoin(Artist, Artist.did == Track.artist_did)
                .where(Track.id == track_id)
            )
        ).first()
        if found is None:
            raise ServiceError(404, "not_found", "there is no such track")
        db.expunge_all()
        return found[0], found[1]


async def playable_track(
    runtime: Runtime,
    track_id: int,
    viewer_did: str | None,
    *,
    admin: bool = False,
    owner_sees: bool = False,
    audio_required: bool = True,
) -> Track:
    """A track anyone may play, or one still processing that the viewer owns. A taken-down
    track (or a hidden account's) is Unavailable (451) except to operators (`admin`), and
    to its artist where `owner_sees` (the track page shows them the notice). A track whose
    audio is not ready is NotPlayable (409, with the reason) to everyone, unless
    `audio_required` is off (the track page, which says why instead of a player)."""
    track, artist = await track_with_artist(runtime, track_id)
    return check_playable(
        track,
        artist,
        viewer_did,
        admin=admin,
        owner_sees=owner_sees,
        audio_required=audio_required,
    )


def check_playable(
    track: Track,
    artist: Artist | None,
    viewer_did: str | None,
    *,
    admin: bool = False,
    owner_sees: bool = False,
    audio_required: bool = True,
) -> Track:
    """`playable_track`'s rules over a track already loaded with its artist."""
    owner = viewer_did is not None and viewer_did == track.artist_did
    if track.publish_state == PublishState.processing and not owner:
        raise ServiceError(404, "not_found", "there is no such track")
    reason = unavailable_reason(track, artist)
    if reason is not None and not admin and not (owner and owner_sees):
        raise Unavailable(reason)
    if audio_required and audio_problem(track) is not None:
        raise NotPlayable(track)
    return track


def audio_notice(track: Track) -> str | None:
    """What a page says instead of a player when the track's audio is not ready."""
    return audio_problem(track)


def audio_pending(track: Track) -> bool:
    """The track's audio is still being fetched (it may play soon)."""
    return track.audio_state == AUDIO_PENDING


async def visible_track(
    runtime: Runtime, track_id: int, viewer_did: str | None, *, admin: bool = False
) -> Track:
    """Any track by id (the API's read, processing ones too), but a taken-down track (or a
    hidden account's) is Unavailable (451) except to its artist and to operators."""
    track, artist = await track_with_artist(runtime, track_id)
    reason = unavailable_reason(track, artist)
    if reason is not None and not admin and viewer_did != track.artist_did:
        raise Unavailable(reason)
    return track


async def check_stored_key(
    runtime: Runtime, key: str, viewer_did: str | None, *, admin: bool = False
) -> None:
    """Unavailable (451) when a stored object (audio, artwork: keys are content hashes)
    belongs only to tracks listeners may not meet, except to operators and to the artist
    of one of them. A key of no track (a list cover, an avatar) passes; so does one that a
    listed track shares (the same artwork on two tracks).

    The key columns carry no index, so the first question is asked among the unlisted
    tracks only (the partial index of taken-down tracks, the hidden accounts' tracks); the
    listed ones are looked at only for a key that one of those holds (rare).
    """
    if admin:
        return
    holds_key = or_(
        Track.original_key == key,
        Track.stream_key == key,
        Track.image_key == key,
        Track.thumbnail_key == key,
    )
    # Two index searches (the partial index of taken-down tracks; the hidden accounts'
    # tracks by artist), not an OR the planners turn into a scan of `tracks`.
    unlisted = union_all(
        select(Track.id).where(Track.taken_down_at.is_not(None), holds_key),
        select(Track.id).where(account_hidden(Track.artist_did), holds_key),
    ).subquery()
    async with runtime.sessions() as db:
        rows = (
            await db.execute(
                select(Track, Artist)
                .outerjoin(Artist, Artist.did == Track.artist_did)
                .where(Track.id.in_(select(unlisted.c.id)))
            )
        ).all()
        if not rows or any(track.artist_did == viewer_did for track, _ in rows):
            return
        shared = await db.scalar(select(Track.id).where(track_listed(), holds_key).limit(1))
    if shared is not None:
        return
    track, artist = rows[0]
    raise Unavailable(unavailable_reason(track, artist) or HIDDEN_MESSAGE)


def listed_artist(artist: Artist, viewer_did: str | None, *, admin: bool = False) -> Artist:
    """The artist, unless an operator hid the account (451; its owner and operators still
    see it)."""
    if artist.hidden_at is not None and not admin and viewer_did != artist.did:
        raise Unavailable(HIDDEN_MESSAGE)
    return artist


async def artist_tracks(runtime: Runtime, did: str, *, include_unpublished: bool) -> list[Track]:
    async with runtime.sessions() as db:
        query = select(Track).where(Track.artist_did == did)
        if not include_unpublished:  # the artist's own portal lists taken-down tracks too
            query = query.where(Track.publish_state == PublishState.published, track_listed())
        rows = await db.execute(query.order_by(Track.created_at.desc(), Track.id.desc()).limit(500))
        return list(rows.scalars())


# --- keyset pages of tracks (newest first) ---------------------------------------------
#
# A page ends at a cursor naming its last track (`plyr.db.keyset`: created_at and id); the
# next page is the tracks strictly after it. Pages read a malformed cursor as none; the
# API's listings refuse one (422).

# Rows one API page may look at while skipping tracks the viewer's feed leaves out; past
# it the page is shorter than asked for (its cursor goes on from the last row looked at).
MAX_SCANNED = 1000
FILTERED_BATCH = 100


def track_cursor(track: Track) -> str:
    return cursor_for(track.created_at, track.id)


def parse_track_cursor(value: str | None) -> Position | None:
    """The (created_at, id) a cursor names; None for no cursor or a malformed one."""
    return parse_cursor(value)


def published_tracks_query(did: str | None, before: Position | None) -> Select[Any]:
    """Published tracks listeners may meet (of one artist, or all), newest first, after the
    cursor if any."""
    query = select(Track).where(Track.publish_state == PublishState.published, track_listed())
    if did is not None:
        query = query.where(Track.artist_did == did)
    if before is not None:
        query = query.where(older_than(Track.created_at, Track.id, before))
    return query.order_by(Track.created_at.desc(), Track.id.desc())


def _published_rows(by_artist: bool, after: bool) -> Select[Any]:
    """`published_tracks_query` as columns, with its values bound at execution."""
    query = select(*Track.__table__.c).where(
        Track.publish_state == PublishState.published, track_listed()
    )
    if by_artist:
        query = query.where(Track.artist_did == bindparam("did"))
    if after:
        query = query.where(older_than(Track.created_at, Track.id, (_AT, _LAST_ID)))
    return query.order_by(Track.created_at.desc(), Track.id.desc()).limit(bindparam("limit"))


_AT: Any = bindparam("at", type_=Track.created_at.type)
_LAST_ID: Any = bindparam("last_id", type_=Track.id.type)
# Built once: a statement object reused keeps its cache key, and SQLAlchemy its compiled SQL.
_PUBLISHED_ROWS = {
    (by_artist, after): _published_rows(by_artist, after)
    for by_artist in (False, True)
    for after in (False, True)
}


async def published_tracks_page(
    runtime: Runtime, did: str | None, *, before: str | None, limit: int
) -> tuple[list[Row[Any]], str | None]:
    """A page of published tracks (rows: a track's columns as attributes, nothing the ORM
    tracks, for pages that only show them) and the cursor of the next page (None on the
    last)."""
    position = parse_track_cursor(before)
    params: dict[str, Any] = {"limit": limit + 1, "did": did}
    if position is not None:
        params["at"], params["last_id"] = position
    query = _PUBLISHED_ROWS[(did is not None, position is not None)]
    async with runtime.sessions() as db:
        found = list((await db.execute(query, params)).all())
    more = len(found) > limit
    found = found[:limit]
    return found, (cursor_for(found[-1].created_at, found[-1].id) if more and found else None)


async def _kept_page(
    runtime: Runtime,
    query_after: Callable[[Position | None], Select[Any]],
    before: Position | None,
    limit: int,
    keep: Callable[[Track], bool] | None = None,
) -> tuple[list[Track], str | None]:
    """Up to `limit` tracks of `query_after(position)` that `keep` keeps, and the next
    page's cursor (None on the last page); reads batches until the page is full."""
    kept: list[Track] = []
    scanned = 0
    position = before
    # One more than a page tells whether there is a next one; with a filter, read more at a
    # time (tracks it drops would otherwise cost a round trip each).
    size = limit + 1 if keep is None else max(limit + 1, FILTERED_BATCH)
    async with runtime.sessions() as db:
        while True:
            batch = list((await db.execute(query_after(position).limit(size))).scalars())
            for track in batch:
                scanned += 1
                position = (track.created_at, track.id)
                if keep is None or keep(track):
                    kept.append(track)
                    if len(kept) > limit:  # one more than asked: there is a next page
                        return kept[:limit], track_cursor(kept[limit - 1])
            if len(batch) < size:  # the listing ends here
                return kept, None
            if scanned >= MAX_SCANNED and position is not None:
                return kept, cursor_for(*position)


async def listener_tracks_page(
    runtime: Runtime,
    artist_did: str | None,
    viewer_did: str | None,
    *,
    opted_in: bool,
    before: str | None,
    limit: int,
) -> tuple[list[Track], str | None]:
    """Published tracks listeners may meet, newest first, as the API lists them: of one
    artist, what their page shows; of everyone, what the home feed shows this viewer (less
    the tracks labelled `sexual` or `porn` unless they opted in or made them; see
    `plyr.tracks.labels`). A malformed cursor is refused (422). A page may hold fewer than
    `limit` tracks; only a None cursor means the last page."""
    position = checked_cursor(before)

    def query_after(after: Position | None) -> Select[Any]:
        return published_tracks_query(artist_did, after)

    if artist_did is not None or opted_in:  # nothing to leave out: plain pages
        return await _kept_page(runtime, query_after, position, limit)

    def in_feed(track: Track) -> bool:
        return not hidden_from_feeds(
            track.self_labels, track.artist_did, viewer_did, opted_in=opted_in
        )

    return await _kept_page(runtime, query_after, position, limit, in_feed)


async def own_tracks_page(
    runtime: Runtime, did: str, *, before: str | None, limit: int
) -> tuple[list[Track], str | None]:
    """Every track of `did`'s, newest first, whatever its state (processing, publishing,
    failed, published, taken down, audio pending): what the artist's portal lists, in
    keyset pages. A malformed cursor is refused (422)."""

    def query_after(after: Position | None) -> Select[Any]:
        query = select(Track).where(Track.artist_did == did)
        if after is not None:
            query = query.where(older_than(Track.created_at, Track.id, after))
        return query.order_by(Track.created_at.desc(), Track.id.desc())

    return await _kept_page(runtime, query_after, checked_cursor(before), limit)
