"""Making a backup of a running plyr: snapshot the database, copy keys and media, and write
the manifest last (a folder without one is an unfinished backup)."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from plyr import __version__
from plyr.backup.files import (
    DATABASE,
    FORMAT,
    KEY_FILES,
    KEYS_DIR,
    MANIFEST,
    MEDIA_DIR,
    PRIVATE_DIR,
    BackupError,
    copy_hashing,
    file_entry,
    hash_file,
    make_dirs,
    postgres_guidance,
    sqlite_path,
    write_private,
)
from plyr.config import Settings
from plyr.db.models import MusicList, Track
from plyr.storage.base import validate_key
from plyr.storage.local import TMP_DIR

SNAPSHOT_ATTEMPTS = 3
# (table, column) of the media rows name; a snapshot whose files are not all in storage is
# retaken. Named through the models, so a renamed column fails here, not silently.
MEDIA_COLUMNS = (
    *((Track.__tablename__, column.key) for column in (Track.original_key, Track.stream_key)),
    *((Track.__tablename__, column.key) for column in (Track.image_key, Track.thumbnail_key)),
    (Track.__tablename__, Track.waveform_key.key),
    *((MusicList.__tablename__, c.key) for c in (MusicList.image_key, MusicList.thumbnail_key)),
)


@dataclass
class BackupReport:
    folder: Path
    schema: str | None
    database_bytes: int
    storage: str
    media_objects: int
    media_bytes: int
    media_copied: bool
    keys: list[str]
    missing: list[str] = field(default_factory=list)  # named by the database, not in storage


def create_backup(settings: Settings, folder: Path, *, copy_media: bool = True) -> BackupReport:
    """Back up into `folder`, which must be new or empty."""
    if not settings.is_sqlite:
        raise BackupError(postgres_guidance(settings))
    source = sqlite_path(settings)
    if not source.is_file():
        raise BackupError(f"no database at {source}; check PLYR_DATA_DIR / PLYR_DATABASE_URL")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BackupError(f"{folder} is not an empty folder; back up into a new one")
    make_dirs(folder, PRIVATE_DIR)
    local = settings.storage_backend == "local"
    copied: dict[str, tuple[int, str]] = {}
    missing: list[str] = []
    for attempt in range(1, SNAPSHOT_ATTEMPTS + 1):
        schema, referenced = _snapshot_database(source, folder / DATABASE)
        if not local:
            break
        root = settings.effective_storage_local_dir
        missing = sorted(referenced - _store_local_media(root, folder, copied, copy_media))
        # A file deleted (with its row) between the snapshot and the copy: a new snapshot
        # no longer names it. Still missing after that, it is lost from storage itself.
        if not missing or attempt == SNAPSHOT_ATTEMPTS:
            break
    database = file_entry(folder / DATABASE, DATABASE)
    keys = _copy_keys(settings.data_dir, folder)
    if local:
        objects = [{"key": k, "size": s, "sha256": h} for k, (s, h) in sorted(copied.items())]
        media: dict[str, Any] = {
            "backend": "local",
            "copied": copy_media,
            "objects": objects,
            "missing": missing,
        }
    else:
        media = {
            "backend": "s3",
            "copied": False,
            "bucket": settings.s3_bucket,
            "endpoint": settings.s3_endpoint_url,
            "note": "the bucket is not in this backup: back it up with your S3 tools; "
            "these are the keys this database names",
            "objects": [{"key": key} for key in sorted(referenced)],
        }
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "plyr_version": __version__,
        "schema": schema,
        "database": database,
        "keys": keys,
        "media": media,
    }
    write_private(folder / MANIFEST, json.dumps(manifest, indent=2).encode() + b"\n")
    return BackupReport(
        folder=folder,
        schema=schema,
        database_bytes=database["size"],
        storage=media["backend"],
        media_objects=len(media["objects"]),
        media_bytes=sum(size for size, _ in copied.values()),
        media_copied=media["copied"],
        keys=[entry["file"] for entry in keys],
        missing=missing,
    )


def _snapshot_database(source: Path, target: Path) -> tuple[str | None, set[str]]:
    """A consistent copy of a live database; its schema revision and the media it names."""
    partial = target.with_name(target.name + ".partial")
    write_private(partial, b"")
    # mode=rw: never create an empty database where the real one is missing.
    live = sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True, timeout=30)
    try:
        copy = sqlite3.connect(partial)
        try:
            # One step (pages=-1): a single read transaction, so the copy is one moment of the
            # database; under WAL plyr keeps writing meanwhile.
            live.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise BackupError(f"the database at {source} is damaged ({verdict}); not copied")
            schema = _schema_revision(copy)
            referenced = _referenced_keys(copy)
        finally:
            copy.close()
    finally:
        live.close()
    os.replace(partial, target)
    return schema, referenced


def _schema_revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return str(row[0]) if row else None


def _referenced_keys(connection: sqlite3.Connection) -> set[str]:
    keys: set[str] = set()
    for table, name in MEDIA_COLUMNS:
        # '': a track from the network whose audio is not fetched yet names no object.
        rows = connection.execute(f"SELECT {name} FROM {table} WHERE {name} <> ''")
        keys.update(str(row[0]) for row in rows)
    return keys


def _store_local_media(
    root: Path, folder: Path, done: dict[str, tuple[int, str]], copy: bool
) -> set[str]:
    """Copy (or only hash) every object not done yet; the keys storage holds now."""
    present: set[str] = set()
    for key, path in _local_objects(root):
        present.add(key)
        if key in done:
            continue  # content-addressed: a key's bytes never change
        try:
            if copy:
                done[key] = copy_hashing(path, folder / MEDIA_DIR / key, folder)
            else:
                done[key] = hash_file(path)
        except FileNotFoundError:
            present.discard(key)  # deleted while we walked
    return present


def _local_objects(root: Path) -> Iterator[tuple[str, Path]]:
    if not root.is_dir():
        return
    for directory, subdirs, files in os.walk(root):
        if Path(directory) == root and TMP_DIR in subdirs:
            subdirs.remove(TMP_DIR)  # half-written objects
        for name in files:
            path = Path(directory, name)
            key = path.relative_to(root).as_posix()
            try:
                validate_key(key)
            except ValueError:
                continue  # not an object plyr wrote (an editor's swap file, a stray note)
            if not path.is_symlink():
                yield key, path


def _copy_keys(data_dir: Path, folder: Path) -> list[dict[str, Any]]:
    entries = []
    for name in KEY_FILES:
        path = data_dir / name
        if path.is_file():
            copy_hashing(path, folder / KEYS_DIR / name, folder)
            entries.append(file_entry(folder / KEYS_DIR / name, f"{KEYS_DIR}/{name}"))
    return entries
