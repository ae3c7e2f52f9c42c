"""Tags: what a tag may be, a track's tags, counts across the catalogue, tag pages, and
leaving out the tags a listener hides."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.db.models import PublishState, Tag, Track, TrackTag
from plyr.db.text import require_storable, storable
from plyr.db.visibility import track_listed
from plyr.errors import ServiceError
from plyr.runtime import Runtime

MAX_TAGS = 10
MAX_TAG_LENGTH = 50


def normalise_tags(raw: list[str]) -> list[str]:
    """Tags as a form or the API sends them (repeated fields or comma-separated) →
    lowercase, without `#`, each once, in order; 422 past the limits."""
    tags: list[str] = []
    for tag in (part.strip() for value in raw for part in value.split(",")):
        tag = " ".join(tag.lower().lstrip("#").split())
        if not tag:
            continue
        require_storable("tags", tag)
        if len(tag) > MAX_TAG_LENGTH:
            raise ServiceError(
                422,
                "invalid_input",
                f"the tag “{tag[:20]}…” is longer than {MAX_TAG_LENGTH} characters",
                [{"field": "tags", "message": "too long"}],
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ServiceError(
            422,
            "invalid_input",
            f"at most {MAX_TAGS} tags",
            [{"field": "tags", "message": "too many"}],
        )
    return tags


async def set_tags(db: AsyncSession, track_id: int, tags: list[str]) -> None:
    """Give a track exactly these tags, in this order (inside the caller's transaction)."""
    await db.execute(delete(TrackTag).where(TrackTag.track_id == track_id))
    for position, name in enumerate(tags):
        tag_id = await db.scalar(select(Tag.id).where(Tag.name == name))
        if tag_id is None:
            tag = Tag(name=name)
            db.add(tag)
            await db.flush()
            tag_id = tag.id
        db.add(TrackTag(track_id=track_id, tag_id=tag_id, position=position))


async def track_tags(db: AsyncSession, track_id: int) -> list[str]:
    rows = await db.execute(
        select(Tag.name)
        .join(TrackTag, TrackTag.tag_id == Tag.id)
        .where(TrackTag.track_id == track_id)
        .order_by(TrackTag.position)
    )
    return list(rows.scalars())


async def tags_of(runtime: Runtime, track_id: int) -> list[str]:
    async with runtime.sessions() as db:
        return await track_tags(db, track_id)


async def tags_by_track(runtime: Runtime, track_ids: Sequence[int]) -> dict[int, list[str]]:
    """The tags of several tracks in one query, each track's in its own order (as
    `tags_of`); a track without tags is not in the answer."""
    if not track_ids:
        return {}
    async with runtime.sessions() as db:
        rows = await db.execute(
            select(TrackTag.track_id, Tag.name)
            .join(Tag, Tag.id == TrackTag.tag_id)
            .where(TrackTag.track_id.in_(list(track_ids)))
            .order_by(TrackTag.track_id, TrackTag.position)
        )
        found: dict[int, list[str]] = {}
        for track_id, name in rows:
            found.setdefault(track_id, []).append(name)
        return found


async def tag_counts(runtime: Runtime, *, limit: int = 100) -> list[tuple[str, int]]:
    """The most used tags and how many published tracks carry each, most used first."""
    async with runtime.sessions() as db:
        uses = func.count(TrackTag.track_id)
        rows = await db.execute(
            select(Tag.name, uses)
            .join(TrackTag, TrackTag.tag_id == Tag.id)
            .join(Track, Track.id == TrackTag.track_id)
            .where(Track.atproto_uri.is_not(None), track_listed())
            .group_by(Tag.name)
            .order_by(uses.desc(), Tag.name)
            .limit(limit)
        )
        return [(name, count) for name, count in rows]


async def tracks_tagged(runtime: Runtime, name: str, *, limit: int) -> list[Track]:
    """Published tracks carrying a tag, newest first."""
    if not storable(name):
        return []
    async with runtime.sessions() as db:
        rows = await db.execute(
            select(Track)
            .join(TrackTag, TrackTag.track_id == Track.id)
            .join(Tag, Tag.id == TrackTag.tag_id)
            .where(Tag.name == name, Track.publish_state == PublishState.published, track_listed())
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
