"""Storing normalised artwork: the cover and its thumbnail, content-addressed."""

from __future__ import annotations

from plyr.media.artwork import Artwork
from plyr.storage.base import Storage, put_content_addressed


async def store_artwork(storage: Storage, artwork: Artwork) -> tuple[str, str]:
    """Put the cover and its thumbnail (idempotent: same bytes, same keys); their keys."""
    image, _ = await put_content_addressed(
        storage,
        "images",
        artwork.image_path,
        artwork.image_path.suffix.lstrip("."),
        artwork.image_mime,
    )
    thumb, _ = await put_content_addressed(
        storage, "images", artwork.thumb_path, "webp", artwork.thumb_mime
    )
    return image.key, thumb.key
