"""Sensitive artwork: images an operator flagged (a stored key or an external URL). Pages
blur them for viewers who have not opted in (`show_sensitive`) and link previews leave
them out.

Pages ask on every render, so each process keeps a snapshot of what is flagged (with the
related keys: a flagged cover's thumbnail, the tracks that use it) and reloads it from the
database at most every `REFRESH_SECONDS`. A flag set in another process shows here within
that bound; one set in this process shows at once.
"""

from __future__ import annotations

import asyncio
import re
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from plyr.db.models import MusicList, SensitiveImage, Track
from plyr.db.text import require_storable
from plyr.errors import ServiceError
from plyr.runtime import Runtime

REFRESH_SECONDS = 15.0
MAX_KEY = 512
MAX_URL = 2048
# plyr's own artwork URLs (`{public_url}/images/{track id}` and its `/thumb`).
OWN_IMAGE_PATH = re.compile(r"/images/(\d+)(?:/thumb)?/?$")


@dataclass(frozen=True, slots=True)
class FlaggedImage:
    id: int
    image_key: str | None
    url: str | None
    reason: str | None
    flagged_by: str | None
    created_at: datetime

    @property
    def target(self) -> str:
        return self.image_key or self.url or ""


@dataclass(slots=True)
class Snapshot:
    keys: frozenset[str] = frozenset()
    urls: frozenset[str] = frozenset()
    track_ids: frozenset[int] = frozenset()
    loaded_at: float = float("-inf")
    refreshing: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def stale(self) -> bool:
        return time.monotonic() - self.loaded_at >= REFRESH_SECONDS


# One snapshot per database (tests run several plyr instances in one process).
_snapshots: weakref.WeakKeyDictionary[AsyncEngine, Snapshot] = weakref.WeakKeyDictionary()


def _snapshot(runtime: Runtime) -> Snapshot:
    snapshot = _snapshots.get(runtime.engine)
    if snapshot is None:
        snapshot = _snapshots[runtime.engine] = Snapshot()
    return snapshot


def _is_url(value: str) -> bool:
    return "://" in value


async def refresh(runtime: Runtime) -> None:
    """Reload what is flagged from the database."""
    async with runtime.sessions() as db:
        rows = (await db.execute(select(SensitiveImage.image_key, SensitiveImage.url))).all()
        keys = {key for key, _ in rows if key}
        urls = {url for _, url in rows if url}
        track_ids: set[int] = set()
        if keys or urls:
            related = await db.execute(
                select(Track.id, Track.image_key, Track.thumbnail_key).where(
                    or_(
                        Track.image_key.in_(keys),
                        Track.thumbnail_key.in_(keys),
                        Track.image_url.in_(urls),
                    )
                )
            )
            for track_id, image_key, thumbnail_key in related:
                track_ids.add(track_id)
                keys.update(k for k in (image_key, thumbnail_key) if k)
        if keys:
            covers = await db.execute(
                select(MusicList.image_key, MusicList.thumbnail_key).where(
                    or_(MusicList.image_key.in_(keys), MusicList.thumbnail_key.in_(keys))
                )
            )
            for image_key, thumbnail_key in covers:
                keys.update(k for k in (image_key, thumbnail_key) if k)
    snapshot = _snapshot(runtime)
    snapshot.keys, snapshot.urls = frozenset(keys), frozenset(urls)
    snapshot.track_ids = frozenset(track_ids)
    snapshot.loaded_at = time.monotonic()


async def refresh_if_stale(runtime: Runtime) -> None:
    if _snapshot(runtime).stale:
        await refresh(runtime)


def snapshot_version(runtime: Runtime) -> float:
    """When this process last loaded what is flagged: a kept rendering of a page is good
    only with the snapshot it was made with (`web/shared/page_cache`)."""
    return _snapshot(runtime).loaded_at


def refresh_soon(runtime: Runtime) -> None:
    """From synchronous code in the event loop (templates): reload in the background."""
    snapshot = _snapshot(runtime)
    if not snapshot.stale or (snapshot.refreshing and not snapshot.refreshing.done()):
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    snapshot.refreshing = loop.create_task(refresh(runtime), name="sensitive-art-refresh")


def _string_flagged(snapshot: Snapshot, value: str) -> bool:
    value = value.strip()
    if not value:
        return False
    if value in snapshot.keys or value in snapshot.urls:
        return True
    if not (_is_url(value) or value.startswith("/")):
        return False
    path = urlsplit(value).path
    own = OWN_IMAGE_PATH.search(path)
    if own and int(own.group(1)) in snapshot.track_ids:
        return True
    # Storage URLs end with the key (`/media/<key>`, `https://bucket…/<key>?signature`).
    parts = [part for part in path.split("/") if part]
    return any("/".join(parts[i:]) in snapshot.keys for i in range(len(parts)))


def flagged_in_snapshot(runtime: Runtime, *images: Any) -> bool:
    """Whether any of `images` is flagged, from the snapshot (no I/O). An image is a stored
    key, a URL, or an object (a track, a list, their API views) with image fields."""
    snapshot = _snapshot(runtime)
    if not (snapshot.keys or snapshot.urls):
        return False
    for image in images:
        if image is None:
            continue
        if isinstance(image, str):
            if _string_flagged(snapshot, image):
                return True
            continue
        for name in ("image_key", "thumbnail_key", "image_url", "thumbnail_url"):
            value = image.get(name) if isinstance(image, dict) else getattr(image, name, None)
            if isinstance(value, str) and _string_flagged(snapshot, value):
                return True
    return False


async def is_sensitive(runtime: Runtime, *images: Any) -> bool:
    await refresh_if_stale(runtime)
    return flagged_in_snapshot(runtime, *images)


async def _own_image_key(runtime: Runtime, value: str) -> str | None:
    """`{public_url}/images/{id}` (what pages and records show) → the track's stored key."""
    if not value.startswith(runtime.settings.public_url + "/"):
        return None
    own = OWN_IMAGE_PATH.search(urlsplit(value).path)
    if own is None:
        return None
    async with runtime.sessions() as db:
        track = await db.get(Track, int(own.group(1)))
    if track is None or not track.image_key:
        raise ServiceError(404, "not_found", "that track has no stored artwork")
    return track.image_key


async def _target(runtime: Runtime, image: str) -> tuple[str | None, str | None]:
    value = (image or "").strip()
    if not value:
        raise ServiceError(422, "invalid_input", "name a stored image key or an image URL")
    require_storable("image", value)
    own = await _own_image_key(runtime, value)
    if own is not None:
        return own, None
    if _is_url(value):
        if not value.startswith(("http://", "https://")) or len(value) > MAX_URL:
            raise ServiceError(422, "invalid_input", "an image URL is http(s) and not too long")
        return None, value
    if len(value) > MAX_KEY or any(ch.isspace() for ch in value):
        raise ServiceError(422, "invalid_input", "that is not a stored image key")
    return value, None


def _view(row: SensitiveImage) -> FlaggedImage:
    return FlaggedImage(row.id, row.image_key, row.url, row.reason, row.flagged_by, row.created_at)


async def flag(
    runtime: Runtime, image: str, reason: str | None = None, by: str | None = None
) -> FlaggedImage:
    """Flag an image (again: the reason is updated). Shown blurred from now on."""
    require_storable("reason", reason)
    key, url = await _target(runtime, image)
    column = SensitiveImage.image_key if key else SensitiveImage.url
    async with runtime.sessions() as db:
        row = await db.scalar(select(SensitiveImage).where(column == (key or url)))
        if row is None:
            row = SensitiveImage(image_key=key, url=url, reason=reason, flagged_by=by)
            db.add(row)
        else:
            row.reason = reason or row.reason
            row.flagged_by = by or row.flagged_by
        await db.commit()
        view = _view(row)
    await refresh(runtime)
    return view


async def unflag(runtime: Runtime, image: str) -> bool:
    key, url = await _target(runtime, image)
    column = SensitiveImage.image_key if key else SensitiveImage.url
    async with runtime.sessions() as db:
        row = await db.scalar(select(SensitiveImage).where(column == (key or url)))
        if row is not None:
            await db.delete(row)
            await db.commit()
    await refresh(runtime)
    return row is not None


async def list_flagged(runtime: Runtime) -> list[FlaggedImage]:
    async with runtime.sessions() as db:
        rows = await db.scalars(select(SensitiveImage).order_by(SensitiveImage.created_at.desc()))
        return [_view(row) for row in rows]
