"""Object storage for audio and images, keyed by content hash: local files or S3-compatible."""

from plyr.storage.base import ObjectInfo, Storage, StorageError, StorageUnavailable
from plyr.storage.factory import create_storage

__all__ = ["ObjectInfo", "Storage", "StorageError", "StorageUnavailable", "create_storage"]
