"""A large library for the export bench, written straight into local storage and the
database through plyr's migrations and models.

The originals are not decodable audio: each is a distinct file of random-looking bytes
under an `audio/…mp3` content key (an export copies bytes and never decodes them, so what
the bytes are does not change what it costs). One random block is written over and over
with a per-file header, so making 2 GB takes seconds, and the files' SHA-256 (their
content keys) are computed as they are written. Artwork is shared per album, as it is in
real libraries; there are likes, comments, album lists, a long playlist and a bio, so the
manifest and the records are of a realistic size. The user's PDS is a closed loopback
port: records come from plyr's own copies (the fallback path), and no network is needed.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from plyr.auth.sessions import hash_secret
from plyr.config import Settings
from plyr.db.models import (
    Artist,
    AuthSession,
    Comment,
    Like,
    ListItem,
    ListType,
    MusicList,
    Profile,
    PublishState,
    RecordState,
    SessionKind,
    Track,
    utcnow,
)
from plyr.runtime import Runtime
from plyr.storage.base import content_key

DID = "did:plc:benchexportuser00000000"
HANDLE = "bench-export.test"
MIB = 1024 * 1024
TRACKS_PER_ALBUM = 10
ARTWORK_BYTES = 400 * 1024


@dataclass(frozen=True)
class Library:
    did: str
    cookie: str
    tracks: int
    audio_bytes: int
    artwork_bytes: int


def bench_settings(work: Path, port: int = 8000) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=work / "data",
        database_url=f"sqlite+aiosqlite:///{work / 'plyr.db'}",
        secret_key="bench-secret-key-not-for-production",  # noqa: S106 - a throwaway folder
        public_url=f"http://127.0.0.1:{port}",
        atproto_dev_network=True,
        jobs_enabled=False,
        ingest_enabled=False,
        rate_limit_exports_per_hour=1_000_000,
        log_level="WARNING",
    )


def _write(path: Path, header: bytes, block: bytes, size: int) -> str:
    """`size` bytes: the header, then the block over and over; its SHA-256."""
    hasher = hashlib.sha256()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        left = size
        piece = header + block[: max(0, min(len(block), size) - len(header))]
        while left > 0:
            chunk = piece[:left]
            handle.write(chunk)
            hasher.update(chunk)
            left -= len(chunk)
            piece = block
    return hasher.hexdigest()


def _stored(
    settings: Settings, namespace: str, header: bytes, block: bytes, size: int, ext: str
) -> tuple[str, str]:
    """Write a file under a temporary name, then move it to its content key."""
    root = settings.effective_storage_local_dir
    scratch = root / ".tmp" / secrets.token_hex(8)
    digest = _write(scratch, header, block, size)
    key = content_key(namespace, digest, ext)
    (root / key).parent.mkdir(parents=True, exist_ok=True)
    os.replace(scratch, root / key)
    return key, digest


async def make_library(
    settings: Settings, *, tracks: int, total_bytes: int, dead_pds: str
) -> Library:
    block = os.urandom(MIB)
    per_track = total_bytes // tracks
    runtime = Runtime.open(settings)
    now = utcnow()
    cookie = secrets.token_urlsafe(32)
    artwork_bytes = 0
    try:
        async with runtime.sessions() as db:
            db.add(Artist(did=DID, handle=HANDLE, display_name="bench", pds_url=dead_pds))
            await db.flush()  # first: the rows below name it, without relationships to order them
            db.add(
                AuthSession(
                    id=hash_secret(cookie),
                    kind=SessionKind.browser,
                    did=DID,
                    issuer="https://bench.invalid",
                    pds_url=dead_pds,
                    scope="atproto",
                    secrets=b"",
                    access_expires_at=now + timedelta(days=1),
                    expires_at=now + timedelta(days=1),
                )
            )
            db.add(
                Profile(
                    did=DID, rkey="self", bio="a big library", record_state=RecordState.published
                )
            )
            rows: list[Track] = []
            albums: list[MusicList] = []
            image_key = None
            for index in range(tracks):
                album = index // TRACKS_PER_ALBUM
                if index % TRACKS_PER_ALBUM == 0:
                    image_key, _ = _stored(
                        settings, "images", f"art{album}".encode(), block, ARTWORK_BYTES, "jpg"
                    )
                    artwork_bytes += ARTWORK_BYTES
                    albums.append(
                        MusicList(
                            did=DID,
                            list_type=ListType.album,
                            name=f"album {album}",
                            unique_key=f"album {album}",
                            rkey=f"3lalbum{album:06d}",
                            record_state=RecordState.published,
                        )
                    )
                key, digest = _stored(
                    settings, "audio", f"track{index}".encode(), block, per_track, "mp3"
                )
                rkey = f"3ltrack{index:06d}"
                rows.append(
                    Track(
                        artist_did=DID,
                        title=f"track {index} of the bench",
                        artist_name="bench",
                        album=f"album {album}",
                        file_type="mp3",
                        duration_seconds=per_track // 40_000,
                        content_hash=digest,
                        original_key=key,
                        stream_key=key,
                        stream_content_type="audio/mpeg",
                        image_key=image_key,
                        size_bytes=per_track,
                        rkey=rkey,
                        atproto_uri=f"at://{DID}/fm.plyr.track/{rkey}",
                        atproto_cid=f"bafyreibench{index:08d}",
                        publish_state=PublishState.published,
                    )
                )
            db.add_all([*rows, *albums])
            await db.flush()
            playlist = MusicList(
                did=DID,
                list_type=ListType.playlist,
                name="everything",
                rkey="3lplaylist0000",
                record_state=RecordState.published,
            )
            db.add(playlist)
            await db.flush()
            for index, track in enumerate(rows):
                uri = track.atproto_uri or ""
                holder = albums[index // TRACKS_PER_ALBUM]
                db.add(
                    ListItem(
                        list_id=holder.id,
                        position=index % TRACKS_PER_ALBUM,
                        subject_uri=uri,
                        subject_cid=track.atproto_cid,
                        track_id=track.id,
                    )
                )
                db.add(
                    ListItem(
                        list_id=playlist.id,
                        position=tracks - index,
                        subject_uri=uri,
                        subject_cid=track.atproto_cid,
                        track_id=track.id,
                    )
                )
                db.add(
                    Like(
                        did=DID,
                        track_id=track.id,
                        rkey=f"3llike{index:07d}",
                        record_state=RecordState.published,
                    )
                )
                if index % 2 == 0:
                    db.add(
                        Comment(
                            did=DID,
                            track_id=track.id,
                            rkey=f"3lcomment{index:06d}",
                            text=f"comment on track {index}",
                            timestamp_ms=1000 * (index % 60),
                            record_state=RecordState.published,
                        )
                    )
            await db.commit()
    finally:
        await runtime.close()
    return Library(DID, cookie, tracks, per_track * tracks, artwork_bytes)
