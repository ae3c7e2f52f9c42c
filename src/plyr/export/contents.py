"""What a user put on plyr, gathered for an export: their tracks with tags and files, their
likes, comments, lists (in order), profile and preferences, and the stored files the zip
will carry, each under a readable name.

Everything here is read before the zip's first byte: rows from the database, and a `stat`
of every stored file (sizes decide zip32 or zip64 per member, and a file storage lost is
left out with a note rather than breaking the zip half-way). The rows are small; the
files' bytes are read only while the zip is written (`plyr.export.archive`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio
from sqlalchemy import func, select

from plyr.atproto.syntax import format_datetime
from plyr.db.models import (
    Artist,
    Comment,
    Like,
    ListItem,
    MusicList,
    Preferences,
    Profile,
    Tag,
    Track,
    TrackTag,
)
from plyr.errors import ServiceError
from plyr.runtime import Runtime
from plyr.social.preferences import preferences_view
from plyr.storage.base import ObjectInfo, StorageError, validate_key

STAT_CONCURRENCY = 16
NAME_LIMIT = 80
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')


@dataclass(slots=True)
class StoredFile:
    """A stored object going into the zip; `sha256` and `written` are filled as it is."""

    name: str
    key: str
    size: int
    modified: datetime
    written: int = 0
    sha256: str | None = None

    def described(self) -> dict[str, Any]:
        return {"file": self.name, "sha256": self.sha256, "size": self.written}


@dataclass(slots=True)
class Contents:
    """Everything an export holds but the records: manifest entries and the files."""

    did: str
    handle: str
    pds_url: str
    user: dict[str, Any]
    tracks: list[dict[str, Any]]
    likes: list[dict[str, Any]]
    comments: list[dict[str, Any]]
    lists: list[dict[str, Any]]
    profile: dict[str, Any] | None
    preferences: dict[str, Any]
    files: list[StoredFile] = field(default_factory=list)
    missing: list[dict[str, str]] = field(default_factory=list)

    @property
    def file_bytes(self) -> int:
        return sum(item.size for item in self.files)


def safe_name(text: str | None, fallback: str) -> str:
    """A file name from a title: no path separators, control or reserved characters."""
    cleaned = _UNSAFE.sub(" ", unicodedata.normalize("NFC", text or ""))
    cleaned = " ".join(cleaned.split()).strip(" .")
    return cleaned[:NAME_LIMIT].rstrip(" .") or fallback


def _extension(key: str) -> str:
    tail = key.rsplit("/", 1)[-1]
    return tail.rsplit(".", 1)[-1] if "." in tail else "bin"


def _when(moment: datetime | None) -> str | None:
    return format_datetime(moment) if moment is not None else None


async def _stat_all(runtime: Runtime, keys: set[str]) -> dict[str, ObjectInfo | None]:
    """Size of every stored file, a few at a time (S3 answers each with a round trip)."""
    found: dict[str, ObjectInfo | None] = {}
    problems: list[StorageError] = []
    limit = anyio.Semaphore(STAT_CONCURRENCY)

    async def one(key: str) -> None:
        async with limit:
            try:
                found[key] = await runtime.storage.stat(key)
            except StorageError as exc:
                problems.append(exc)

    async with anyio.create_task_group() as group:
        for key in keys:
            group.start_soon(one, key)
    if problems:
        raise ServiceError(
            503, "storage_unavailable", f"plyr's storage did not answer: {problems[0]}"
        )
    return found


class _Files:
    """Names files once: the same artwork on twelve tracks goes in the zip once."""

    def __init__(self, contents: Contents, stats: dict[str, ObjectInfo | None]) -> None:
        self.contents = contents
        self.stats = stats
        self.by_key: dict[str, StoredFile] = {}

    def add(self, key: str | None, name: str, modified: datetime, what: str) -> StoredFile | None:
        if not key:
            return None
        if key in self.by_key:
            return self.by_key[key]
        info = self.stats.get(key)
        if info is None:
            self.contents.missing.append({"file": name, "reason": f"{what} is not in storage"})
            return None
        stored = StoredFile(name, key, info.size, modified)
        self.by_key[key] = stored
        self.contents.files.append(stored)
        return stored


def _valid_keys(*keys: str | None) -> list[str]:
    valid = []
    for key in keys:
        try:
            if key:
                valid.append(validate_key(key))
        except ValueError:
            continue
    return valid


def _track_entry(runtime: Runtime, track: Track, tags: list[str]) -> dict[str, Any]:
    base = runtime.settings.public_url
    return {
        "id": track.id,
        "title": track.title,
        "artist": track.artist_name,
        "album": track.album,
        "description": track.description,
        "features": track.features or [],
        "tags": tags,
        "self_labels": track.self_labels or [],
        "support_gate": track.support_gate,
        "lyrics": track.lyrics,  # the record's {plain, synced, lang}, or null
        "file_type": track.file_type,
        "duration_seconds": track.duration_seconds,
        "codec": track.codec,
        "sample_rate": track.sample_rate,
        "channels": track.channels,
        "loudness_lufs": track.loudness_lufs,
        "gain_db": track.gain_db,
        "play_count": track.play_count,
        "publish_state": track.publish_state.value,
        "taken_down": track.taken_down_at is not None,
        "takedown_reason": track.takedown_reason,
        "created_at": _when(track.created_at),
        "updated_at": _when(track.updated_at),
        "uri": track.atproto_uri,
        "cid": track.atproto_cid,
        "rkey": track.rkey,
        "page_url": f"{base}/tracks/{track.id}",
        "content_sha256": track.content_hash,
    }


def _subject(track: Track | None, uri: str | None) -> dict[str, Any]:
    if track is None:
        return {"uri": uri}
    return {"id": track.id, "title": track.title, "artist": track.artist_name, "uri": uri}


async def library_bytes(runtime: Runtime, did: str) -> int:
    """What the user's originals come to (the bulk of an export), from the rows."""
    total = func.coalesce(func.sum(Track.size_bytes), 0)
    async with runtime.sessions() as db:
        return int(await db.scalar(select(total).where(Track.artist_did == did)) or 0)


async def gather(runtime: Runtime, did: str) -> Contents:
    """Everything of `did`'s, read now; 404 when plyr does not know the user."""
    async with runtime.sessions() as db:
        artist = await db.get(Artist, did)
        if artist is None:
            raise ServiceError(404, "not_found", "plyr has nothing of this user")
        tracks = list(
            await db.scalars(
                select(Track).where(Track.artist_did == did).order_by(Track.created_at, Track.id)
            )
        )
        tag_rows = await db.execute(
            select(TrackTag.track_id, Tag.name)
            .join(Tag, Tag.id == TrackTag.tag_id)
            .join(Track, Track.id == TrackTag.track_id)
            .where(Track.artist_did == did)
            .order_by(TrackTag.track_id, TrackTag.position)
        )
        tags: dict[int, list[str]] = {}
        for track_id, name in tag_rows:
            tags.setdefault(track_id, []).append(name)
        likes = (
            await db.execute(
                select(Like, Track)
                .outerjoin(Track, Track.id == Like.track_id)
                .where(Like.did == did)
                .order_by(Like.created_at, Like.id)
            )
        ).all()
        comments = (
            await db.execute(
                select(Comment, Track)
                .outerjoin(Track, Track.id == Comment.track_id)
                .where(Comment.did == did)
                .order_by(Comment.created_at, Comment.id)
            )
        ).all()
        lists = list(
            await db.scalars(
                select(MusicList)
                .where(MusicList.did == did)
                .order_by(MusicList.created_at, MusicList.id)
            )
        )
        items = (
            await db.execute(
                select(ListItem, Track)
                .outerjoin(Track, Track.id == ListItem.track_id)
                .where(ListItem.list_id.in_([row.id for row in lists]))
                .order_by(ListItem.list_id, ListItem.position, ListItem.id)
            )
        ).all()
        profile = await db.scalar(select(Profile).where(Profile.did == did))
        preferences = await db.get(Preferences, did)

    contents = Contents(
        did=did,
        handle=artist.handle,
        pds_url=artist.pds_url,
        user={
            "did": did,
            "handle": artist.handle,
            "display_name": artist.display_name,
            "pds": artist.pds_url,
            "avatar_url": artist.avatar_url,
            "first_signed_in": _when(artist.created_at),
        },
        tracks=[],
        likes=[
            {
                "track": _subject(track, track.atproto_uri if track else None),
                "created_at": _when(like.created_at),
                "uri": like.atproto_uri,
                "state": like.record_state.value,
            }
            for like, track in likes
        ],
        comments=[
            {
                "track": _subject(track, track.atproto_uri if track else None),
                "text": comment.text,
                "timestamp_ms": comment.timestamp_ms,
                "created_at": _when(comment.created_at),
                "updated_at": _when(comment.updated_at),
                "uri": comment.atproto_uri,
                "state": comment.record_state.value,
            }
            for comment, track in comments
        ],
        lists=[],
        profile=None
        if profile is None
        else {
            "bio": profile.bio,
            "created_at": _when(profile.created_at),
            "updated_at": _when(profile.updated_at),
            "uri": profile.atproto_uri,
        },
        preferences=preferences_view(preferences).as_dict(),
    )

    keys = set(
        _valid_keys(*(t.original_key for t in tracks), *(t.image_key for t in tracks))
    ) | set(_valid_keys(*(row.image_key for row in lists)))
    files = _Files(contents, await _stat_all(runtime, keys))
    for track in tracks:
        entry = _track_entry(runtime, track, tags.get(track.id, []))
        stem = f"{safe_name(track.title, 'track')}-{track.id}"
        original = _valid_keys(track.original_key)
        image = _valid_keys(track.image_key)
        entry["original"] = files.add(
            original[0] if original else None,
            f"audio/{stem}.{_extension(track.original_key)}",
            track.created_at,
            f"the original of “{track.title}”",
        )
        entry["artwork"] = files.add(
            image[0] if image else None,
            f"artwork/{stem}.{_extension(track.image_key or '')}",
            track.updated_at,
            f"the artwork of “{track.title}”",
        )
        contents.tracks.append(entry)

    entries: dict[int, list[dict[str, Any]]] = {}
    for item, track in items:
        entries.setdefault(item.list_id, []).append(
            {
                "position": item.position,
                "cid": item.subject_cid,
                **_subject(track, item.subject_uri),
            }
        )
    for row in lists:
        cover = _valid_keys(row.image_key)
        name = row.name or row.list_type.value
        cover_name = f"{safe_name(name, 'list')}-{row.id}.{_extension(row.image_key or '')}"
        contents.lists.append(
            {
                "id": row.id,
                "type": row.list_type.value,
                "name": row.name,
                "description": row.description,
                "created_at": _when(row.created_at),
                "updated_at": _when(row.updated_at),
                "uri": row.atproto_uri,
                "state": row.record_state.value,
                "cover": files.add(
                    cover[0] if cover else None,
                    f"artwork/lists/{cover_name}",
                    row.updated_at,
                    f"the cover of “{name}”",
                ),
                "items": entries.get(row.id, []),
            }
        )
    return contents
