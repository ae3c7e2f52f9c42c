"""Restoring a backup: check every file against the manifest first, refuse to replace a
database (or different keys) without --force, then put back media, keys and, last, the
database, each file private (0600, folders 0700)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    hash_file,
    make_dirs,
    media_modes,
    postgres_guidance,
    sqlite_path,
)
from plyr.config import Settings
from plyr.storage.base import validate_key

SHOWN_PROBLEMS = 10


@dataclass
class RestoreReport:
    database: Path
    schema: str | None
    media_objects: int
    keys: list[str]
    notes: list[str] = field(default_factory=list)


def restore_backup(settings: Settings, folder: Path, *, force: bool = False) -> RestoreReport:
    """Restore the backup in `folder` into this plyr's data folder, database and storage."""
    if not settings.is_sqlite:
        raise BackupError(postgres_guidance(settings))
    manifest = read_manifest(folder)
    problems = verify_backup(folder, manifest)
    if problems:
        shown = "\n  ".join(problems[:SHOWN_PROBLEMS])
        more = problems[SHOWN_PROBLEMS:]
        raise BackupError(
            f"the backup in {folder} does not match its manifest; nothing was restored:\n"
            f"  {shown}" + (f"\n  … and {len(more)} more" if more else "")
        )
    media = manifest["media"]
    restore_media = media["backend"] == "local" and media["copied"]
    if restore_media and settings.storage_backend != "local":
        raise BackupError(
            "this backup holds local media but plyr is set up for S3; restore with "
            "PLYR_STORAGE_BACKEND=local, or copy its media folder into the bucket yourself"
        )
    database = sqlite_path(settings)
    keys = [
        (folder / entry["file"], settings.data_dir / Path(entry["file"]).name)
        for entry in manifest["keys"]
    ]
    in_the_way = [database] if database.exists() else []
    in_the_way += [t for s, t in keys if t.exists() and hash_file(s) != hash_file(t)]
    if in_the_way and not force:
        raise BackupError(
            f"{', '.join(map(str, in_the_way))}: already there, and restoring would replace "
            "it; stop plyr first, then run `plyr restore` again with --force"
        )
    make_dirs(settings.data_dir, PRIVATE_DIR)
    file_mode, dir_mode = media_modes(settings)
    root = settings.effective_storage_local_dir
    if restore_media:
        for entry in media["objects"]:
            key = validate_key(entry["key"])
            copy_hashing(folder / MEDIA_DIR / key, root / key, root, file_mode, dir_mode)
    for source, target in keys:
        copy_hashing(source, target, settings.data_dir)
    # The database last: it is never there without the files it names. Another database's
    # write-ahead log beside it would be replayed into this one, so it goes first.
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    copy_hashing(folder / DATABASE, database, database.parent)
    return RestoreReport(
        database=database,
        schema=manifest.get("schema"),
        media_objects=len(media["objects"]) if restore_media else 0,
        keys=[target.name for _, target in keys],
        notes=_notes(manifest, restore_media),
    )


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupError(
            f"no {MANIFEST} in {folder}: not a plyr backup, or an unfinished one"
        ) from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"cannot read {path}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a plyr backup manifest of format {FORMAT}")
    return manifest


def verify_backup(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """What in the folder differs from the manifest (empty when the backup is whole)."""
    try:
        return _compare(folder, manifest)
    except (KeyError, TypeError, AttributeError) as exc:
        return [f"{MANIFEST}: malformed ({type(exc).__name__}: {exc})"]


def _compare(folder: Path, manifest: dict[str, Any]) -> list[str]:
    problems = []
    # Only the files plyr writes, under the names it gives them: a manifest cannot make a
    # restore write anywhere else.
    if manifest["database"]["file"] != DATABASE:
        problems.append(f"{manifest['database']['file']}: not the database file {DATABASE}")
    for entry in manifest["keys"]:
        if entry["file"] not in {f"{KEYS_DIR}/{name}" for name in KEY_FILES}:
            problems.append(f"{entry['file']}: not a key file plyr backs up")
    entries = [manifest["database"], *manifest["keys"]]
    media = manifest["media"]
    if media["backend"] == "local" and media["copied"]:
        for item in media["objects"]:
            try:
                entries.append({**item, "file": f"{MEDIA_DIR}/{validate_key(item['key'])}"})
            except ValueError:
                problems.append(f"{item['key']!r}: not a storage key")
    for entry in entries:
        path = folder / entry["file"]
        if not path.is_file():
            problems.append(f"{entry['file']}: missing")
            continue
        size, digest = hash_file(path)
        if size != entry["size"]:
            problems.append(f"{entry['file']}: {size} bytes, the manifest says {entry['size']}")
        elif digest != entry["sha256"]:
            problems.append(f"{entry['file']}: its sha256 does not match the manifest")
    return problems


def _notes(manifest: dict[str, Any], restored_media: bool) -> list[str]:
    media = manifest["media"]
    if restored_media:
        return []
    if media["backend"] == "s3":
        return [
            f"media: the {len(media['objects'])} objects this database names live in the S3 "
            f"bucket {media['bucket']!r}; restore the bucket with your S3 tools"
        ]
    return [
        f"media: this backup was made with --no-media; put back the {len(media['objects'])} "
        "objects its manifest lists (keys, sizes, sha256) from your own copy"
    ]
