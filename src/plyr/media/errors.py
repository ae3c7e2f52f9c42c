"""Errors raised by the media layer.

Every error is a ``ValueError`` whose message is safe to show to the uploader. They take a
single message argument so they survive pickling across a process pool unchanged.
"""

from __future__ import annotations

ACCEPTED_AUDIO = "mp3, wav, m4a (aac, alac), flac, aiff, ogg (vorbis, opus), webm (opus)"
ACCEPTED_IMAGES = "jpeg, png, webp, gif, heic"


class MediaError(ValueError):
    """A file the media layer can't use; the message explains why in plain words."""


class UnsupportedFormat(MediaError):
    """The content is not one of the accepted audio formats."""


class CorruptFile(MediaError):
    """The content looks like an accepted format but can't be decoded (truncated, damaged)."""


class UnsupportedImage(MediaError):
    """The content is not one of the accepted image formats."""


class UnsafeImage(MediaError):
    """The image declares more pixels than we are willing to decode (decompression bomb)."""


class MetadataTooLarge(MediaError):
    """The audio is fine but what travels with it is not: tags larger than any real tagger
    writes, or embedded artwork beyond the limits of uploaded artwork (a metadata bomb)."""
