"""Tags across the catalogue: counts, tag pages, and leaving out the tags a listener hides."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from plyr.db.models import PublishState, Tag, Track, TrackTag
from plyr.runtime import Runtime


async def tag_counts(runtime: Runtime, *, limit: int = 100) -> list[tuple[str, int]]:
    """The most used tags and how many published tracks carry each, most used first."""
    async with runtime.sessions() as db:
        uses = func.count(TrackTag.track_id)
        rows = await db.execute(
            select(Tag.name, uses)
            .join(TrackTag, TrackTag.tag_id == Tag.id)
            .join(Track, Track.id == TrackTag.track_id)
            .where(Track.atproto_uri.is_not(None))
            .group_by(Tag.name)
            .order_by(uses.desc(), Tag.name)
            .limit(limit)
        )
        return [(name, count) for name, count in rows]


async def tracks_tagged(runtime: Runtime, name: str, *, limit: int) -> list[Track]:
    """Published tracks carrying a tag, newest first."""
    async with runtime.sessions() as db:
        rows = await db.execute(
            select(Track)
            .join(TrackTag, TrackTag.track_id == Track.id)
            .join(Tag, Tag.id == TrackTag.tag_id)
            .where(Tag.name == name, Track.publish_state == PublishState.published)
            .order_by(Track.created_at.desc(), Track.id.desc())
            .limit(limit)
        )
        return list(rows.scalars())


async def tracks_with_tags(runtime: Runtime, track_ids: Sequence[int]) -> dict[int, set[str]]:
    if not track_ids:
        return {}
    async with runtime.sessions() as db:
        rows = await db.execute(
            select(TrackTag.track_id, Tag.name)
            .join(Tag, Tag.id == TrackTag.tag_id)
            .where(TrackTag.track_id.in_(list(track_ids)))
        )
        found: dict[int, set[str]] = {}
        for track_id, name in rows:
            found.setdefault(track_id, set()).add(name)
        return found


async def without_hidden(runtime: Runtime, tracks: list[Track], hidden: list[str]) -> list[Track]:
    """The tracks that carry none of the hidden tags."""
    if not hidden:
        return tracks
    tags = await tracks_with_tags(runtime, [t.id for t in tracks])
    blocked = {h.casefold() for h in hidden}
    return [t for t in tracks if not {n.casefold() for n in tags.get(t.id, set())} & blocked]
