"""Backing up an embedded plyr (SQLite and local media) while it runs, and restoring it.

A backup is a folder, readable by its owner only (it holds sessions and keys):

    plyr.db        the database, copied with SQLite's online backup API: a consistent
                   snapshot taken while plyr keeps serving and writing
    keys/          secret.key and oauth-key.json, when they live in the data folder
    media/<key>    every object of local storage (not with --no-media)
    manifest.json  what is in it: each file's size and SHA-256, every media key, the schema

PostgreSQL is backed up with PostgreSQL's own tools and an S3 bucket with the operator's;
for them plyr says what to do instead (the manifest still lists the media keys the
database names). A restore checks every size and hash in the manifest before it touches
anything, so a damaged backup changes nothing.

`creating.py` makes a backup, `restoring.py` checks and restores one, `files.py` holds
what both do to files (private modes, hashing while copying, the manifest's names).
Synchronous on purpose: it runs alone in the CLI and is disk-bound; there is no event loop.
"""

from plyr.backup.creating import BackupReport, create_backup
from plyr.backup.files import BackupError, postgres_guidance
from plyr.backup.restoring import RestoreReport, restore_backup, verify_backup

__all__ = [
    "BackupError",
    "BackupReport",
    "RestoreReport",
    "create_backup",
    "postgres_guidance",
    "restore_backup",
    "verify_backup",
]
