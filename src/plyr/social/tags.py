"""Tag counts across the catalogue (published tracks only)."""

from __future__ import annotations

from sqlalchemy import func, select

from plyr.db.models import Tag, Track, TrackTag
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
