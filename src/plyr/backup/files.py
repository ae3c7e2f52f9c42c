"""What making and restoring a backup both need: its layout, the refusal for PostgreSQL,
and file operations that keep modes private and hash while they copy."""

from __future__ import annotations

import hashlib
import os
from io import BufferedWriter
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from plyr.auth.client import KEY_FILE
from plyr.config import SECRET_KEY_FILE, Settings

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE = "plyr.db"
KEYS_DIR = "keys"
MEDIA_DIR = "media"
# The labeler's key and (development network) its identity, as plyr.moderation.labeler names
# them (a sibling package this one may not import): a restore without them makes a new key
# the labeler's DID document does not name.
LABELER_KEY_FILES = ("labeler.key", "labeler-devnet.json")
KEY_FILES = (SECRET_KEY_FILE, KEY_FILE, *LABELER_KEY_FILES)
CHUNK = 1024 * 1024
PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


def postgres_guidance(settings: Settings) -> str:
    url = make_url(settings.effective_database_url).set(drivername="postgresql")
    shown = url.render_as_string(hide_password=True)
    return (
        f"plyr backup and restore copy SQLite databases; this plyr uses PostgreSQL ({shown}).\n"
        "Back it up with PostgreSQL's own tools, which take a consistent snapshot while plyr "
        "runs:\n"
        f"  pg_dump --format=custom --file=plyr.dump '{shown}'\n"
        "and restore into an empty database, then bring the schema up to date:\n"
        f"  pg_restore --no-owner --dbname='{shown}' plyr.dump\n"
        "  plyr db upgrade\n"
        "Back up the media (the S3 bucket, or the storage folder) with your storage's tools, "
        "and keep PLYR_SECRET_KEY and PLYR_OAUTH_CLIENT_KEY: sessions are encrypted with them."
    )


def sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.effective_database_url).database
    if not database or database == ":memory:":
        raise BackupError("the database is in memory; there is nothing on disk to back up")
    return Path(database)


def media_modes(settings: Settings) -> tuple[int, int]:
    """Media files private like the rest, unless a proxy sends them (x-accel-redirect,
    x-sendfile): its own user must be able to read them."""
    return (PRIVATE_FILE, PRIVATE_DIR) if settings.media_offload == "none" else (0o644, 0o755)


def file_entry(path: Path, name: str) -> dict[str, Any]:
    """A file as the manifest lists it."""
    size, digest = hash_file(path)
    return {"file": name, "size": size, "sha256": digest}


def hash_file(path: Path) -> tuple[int, str]:
    hasher, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return size, hasher.hexdigest()


def copy_hashing(
    source: Path,
    target: Path,
    root: Path,
    file_mode: int = PRIVATE_FILE,
    dir_mode: int = PRIVATE_DIR,
) -> tuple[int, str]:
    """Copy through a temporary file renamed into place (readers never see half a file);
    the folders from `root` down to the file get `dir_mode`. Returns size and SHA-256."""
    make_dirs(target.parent, dir_mode, below=root)
    partial = target.with_name(f".{target.name}.partial")
    hasher, size = hashlib.sha256(), 0
    try:
        with source.open("rb") as reader, _open_new(partial, file_mode) as writer:
            while chunk := reader.read(CHUNK):
                hasher.update(chunk)
                writer.write(chunk)
                size += len(chunk)
            writer.flush()
            os.fsync(writer.fileno())
        os.chmod(partial, file_mode)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return size, hasher.hexdigest()


def write_private(path: Path, data: bytes) -> None:
    with _open_new(path, PRIVATE_FILE) as handle:
        handle.write(data)
    os.chmod(path, PRIVATE_FILE)


def make_dirs(path: Path, mode: int, *, below: Path | None = None) -> None:
    """Create `path` and its missing parents with `mode` (mkdir's own mode skips parents);
    `path` itself (and, given `below`, each folder under it) gets `mode` even if it existed."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=mode)
    changed = {path, *missing}
    if below is not None:
        changed.update(p for p in [path, *path.parents] if p == below or below in p.parents)
    for folder in changed:
        os.chmod(folder, mode)


def _open_new(path: Path, mode: int) -> BufferedWriter:
    # os.open with the mode: the file is never readable by others, not even for a moment.
    return open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb")
