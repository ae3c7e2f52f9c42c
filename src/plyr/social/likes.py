"""Likes: an `fm.plyr.like` record per liked track, and the user's liked list kept with them;
the tracks a user liked (the liked list's order, or keyset pages newest like first).

Liking twice is one like; unliking what is not liked changes nothing. Each change and its
sync jobs (the like, the liked list) are committed together.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from plyr.atproto.tid import next_tid
from plyr.db.keyset import checked_cursor, cursor_for, older_than
from plyr.db.models import Artist, Like, ListItem, ListType, MusicList, Preferences, Track, utcnow
from plyr.db.visibility import account_hidden, require_listed, track_listed
from plyr.errors import ServiceError
from plyr.runtime import Runtime
from plyr.social import sync
from plyr.social.list_rows import MAX_ITEMS, liked_list


async def like(runtime: Runtime, did: str, track_id: int, session_id: str | None = None) -> Like:
    async with runtime.sessions() as db:
        track = await db.get(Track, track_id)
        if track is None:
            raise ServiceError(404, "not_found", "no such track")
        await require_listed(db, track, did)
        existing = await db.scalar(select(Like).where(Like.did == did, Like.track_id == track_id))
        if existing is not None:
            db.expunge(existing)
            return existing
        row = Like(did=did, track_id=track_id, rkey=next_tid())
        db.add(row)
        try:
            await db.flush()
        except IntegrityError:  # a double click raced us: the other request liked it
            await db.rollback()
            found = await db.scalar(select(Like).where(Like.did == did, Like.track_id == track_id))
            if found is None:
                raise
            db.expunge(found)
            return found
        await sync.changed(db, row, session_id)
        liked = await liked_list(db, did)
        count = await db.scalar(select(func.count(ListItem.id)).where(ListItem.list_id == liked.id))
        if (count or 0) < MAX_ITEMS:
            # Newest first, as people expect of a liked list: the new track goes on top.
            first = await db.scalar(
                select(func.min(ListItem.position)).where(ListItem.list_id == liked.id)
            )
            db.add(
                ListItem(
                    list_id=liked.id,
                    position=(first if first is not None else 1) - 1,
                    subject_uri=track.atproto_uri or f"plyr:track:{track.id}",
                    subject_cid=track.atproto_cid,
                    track_id=track.id,
                )
            )
            liked.updated_at = utcnow()
            await sync.changed(db, liked, session_id)
        await db.commit()
        db.expunge(row)
        return row


async def unlike(runtime: Runtime, did: str, track_id: int, session_id: str | None = None) -> bool:
    async with runtime.sessions() as db:
        row = await db.scalar(select(Like).where(Like.did == did, Like.track_id == track_id))
        if row is None:
            return False
        rkey = row.rkey
        await db.delete(row)
        await sync.removed(db, "like", did, rkey, session_id)
        liked = await liked_list(db, did)
        items = await db.execute(
            select(ListItem).where(ListItem.list_id == liked.id, ListItem.track_id == track_id)
        )
        dropped = False
        for item in items.scalars():
            await db.delete(item)
            dropped = True
        if dropped:
            liked.updated_at = utcnow()
            await sync.changed(db, liked, session_id)
        await db.commit()
        return True


async def is_liked(runtime: Runtime, did: str | None, track_ids: list[int]) -> set[int]:
    if did is None or not track_ids:
        return set()
    async with runtime.sessions() as db:
        rows = await db.execute(
            select(Like.track_id).where(Like.did == did, Like.track_id.in_(track_ids))
        )
        return set(rows.scalars())


# Like counts leave out hidden accounts' likes. Counted as all likes (from the index on
# track_id alone) less the hidden accounts' (found through those few accounts: `+ 0` keeps
# the planners off the track_id index there), a track with thousands of likes costs no
# row reads; `NOT IN (hidden)` on each like read every row (14 ms for five popular tracks
# on SQLite, a bitmap heap scan on PostgreSQL).
_TRACK_ID_NO_INDEX = Like.track_id + literal_column("0")


def like_count_of(track_id: Any) -> ColumnElement[int]:
    """A track's like count as SQL, for a query that reads it with the track."""
    everyone = select(func.count()).select_from(Like).where(Like.track_id == track_id)
    hidden = (
        select(func.count())
        .select_from(Like)
        .where(account_hidden(Like.did), track_id == _TRACK_ID_NO_INDEX)
    )
    return everyone.scalar_subquery() - hidden.scalar_subquery()


async def like_counts(runtime: Runtime, track_ids: list[int]) -> dict[int, int]:
    if not track_ids:
        return {}
    everyone = (
        select(Like.track_id.label("track_id"), func.count().label("likes"))
        .where(Like.track_id.in_(track_ids))
        .group_by(Like.track_id)
        .subquery()
    )
    hidden = (
        select(Like.track_id.label("track_id"), func.count().label("likes"))
        .where(account_hidden(Like.did), _TRACK_ID_NO_INDEX.in_(track_ids))
        .group_by(Like.track_id)
        .subquery()
    )
    query = select(
        everyone.c.track_id, everyone.c.likes - func.coalesce(hidden.c.likes, 0)
    ).outerjoin(hidden, hidden.c.track_id == everyone.c.track_id)
    async with runtime.sessions() as db:
        rows = await db.execute(query)
        return {track_id: count for track_id, count in rows if count}


async def likers(runtime: Runtime, track_id: int, limit: int = 50) -> list[Artist]:
    """Who liked a track, most recent first."""
    async with runtime.sessions() as db:
        rows = await db.execute(
            select(Artist)
            .join(Like, Like.did == Artist.did)
            .where(Like.track_id == track_id, Artist.hidden_at.is_(None))
            .order_by(Like.created_at.desc(), Like.id.desc())
            .limit(limit)
        )
        found = list(rows.scalars())
        db.expunge_all()
        return found


async def liked_tracks(runtime: Runtime, did: str) -> list[Track]:
    """The user's liked tracks in their liked list's order (published tracks only)."""
    async with runtime.sessions() as db:
        liked_id = await db.scalar(
            select(MusicList.id).where(MusicList.did == did, MusicList.list_type == ListType.liked)
        )
        found: list[Track] = []
        if liked_id is not None:  # reading never makes the list: the first like does
            rows = await db.execute(
                select(Track)
                .join(ListItem, ListItem.track_id == Track.id)
                .options(selectinload(Track.artist))
                .where(ListItem.list_id == liked_id, Track.atproto_uri.is_not(None), track_listed())
                .order_by(ListItem.position, ListItem.id)
            )
            found = list(rows.scalars())
        # Likes made by another client are not in the list: show them after it.
        listed = {track.id for track in found}
        extra = await db.execute(
            select(Track)
            .join(Like, Like.track_id == Track.id)
            .options(selectinload(Track.artist))
            .where(Like.did == did, Track.atproto_uri.is_not(None), track_listed())
            .order_by(Like.created_at.desc())
        )
        found += [track for track in extra.scalars() if track.id not in listed]
        db.expunge_all()
        return found


async def liked_tracks_page(
    runtime: Runtime, did: str, *, before: str | None, limit: int
) -> tuple[list[Track], str | None]:
    """The tracks `did` liked, newest like first (likes of any client, unlike the liked
    list's own order), in keyset pages by the like's time: published tracks listeners may
    meet, as `liked_tracks`. A malformed cursor is refused (422); the cursor names a like."""
    position = checked_cursor(before)
    query = (
        select(Track, Like.created_at, Like.id)
        .join(Like, Like.track_id == Track.id)
        .where(Like.did == did, Track.atproto_uri.is_not(None), track_listed())
    )
    if position is not None:
        query = query.where(older_than(Like.created_at, Like.id, position))
    query = query.order_by(Like.created_at.desc(), Like.id.desc()).limit(limit + 1)
    async with runtime.sessions() as db:
        rows = (await db.execute(query)).all()
        db.expunge_all()
    found = [track for track, _at, _id in rows[:limit]]
    if len(rows) <= limit:
        return found, None
    _track, liked_at, like_id = rows[limit - 1]
    return found, cursor_for(liked_at, like_id)


async def liked_page_visible(runtime: Runtime, did: str) -> bool:
    """Whether the user lets others see their liked tracks (`/liked/{handle}`)."""
    async with runtime.sessions() as db:
        shown = await db.scalar(select(Preferences.show_liked).where(Preferences.did == did))
        return bool(shown)


async def may_see_list(runtime: Runtime, row: MusicList, viewer_did: str | None) -> bool:
    """Albums and playlists are public; a liked list is private unless its owner shows
    their liked tracks (the owner always sees it)."""
    if row.list_type != ListType.liked or viewer_did == row.did:
        return True
    return await liked_page_visible(runtime, row.did)
