"""Pick the storage backend the settings name."""

from __future__ import annotations

from plyr.config import Settings
from plyr.storage.base import Storage
from plyr.storage.local import LocalStorage


def create_storage(settings: Settings) -> Storage:
    if settings.storage_backend == "s3":
        from plyr.storage.s3 import S3Storage

        return S3Storage.from_settings(settings)
    return LocalStorage(settings.effective_storage_local_dir, settings.public_url)
