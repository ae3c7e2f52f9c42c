"""Artwork at the size a player asks for (Subsonic's `getCoverArt?size=`): plyr's stored
artwork (a JPEG of at most 1500 px, or WebP, already checked and cleaned at upload) scaled
down to fit a square, as a JPEG. Never scaled up: a player asking for more than the image
has gets the image itself."""

from __future__ import annotations

from io import BytesIO
from typing import Final

from PIL import Image

from plyr.media.artwork import JPEG_QUALITY

# Stored artwork is one of these (artwork.py writes JPEG; lists and older rows may be WebP).
_STORED_FORMATS: Final = ["JPEG", "WEBP", "PNG"]


def fit_jpeg(data: bytes, size: int) -> bytes | None:
    """`data` scaled down to fit a square of `size` pixels (the aspect kept) as a JPEG, or None when
    it fits already."""
    with Image.open(BytesIO(data), formats=_STORED_FORMATS) as image:
        if max(image.size) <= size:
            return None
        # JPEG decodes at 1/2, 1/4 or 1/8 scale for free: only what the result needs.
        image.draft("RGB", (size, size))
        picture = image.convert("RGB")
    picture.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = BytesIO()
    picture.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()
