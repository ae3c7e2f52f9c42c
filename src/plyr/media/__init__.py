"""Media: sniff, probe, transcode, measure loudness of audio; normalise cover art.

Pure functions over files on disk (no web, no database). The CPU-heavy ones take and
return picklable values (paths, frozen dataclasses) and raise picklable ``MediaError``s,
so they can run in worker processes: see ``plyr.media.pool``.
"""

from plyr.media.artwork import Artwork, artwork_from_bytes, check_image, process_artwork
from plyr.media.errors import (
    ACCEPTED_AUDIO,
    ACCEPTED_IMAGES,
    CorruptFile,
    MediaError,
    MetadataTooLarge,
    UnsafeImage,
    UnsupportedFormat,
    UnsupportedImage,
)
from plyr.media.loudness import Loudness, integrated_loudness, playback_gain_db
from plyr.media.probe import AudioInfo, probe_audio
from plyr.media.sniff import AudioFormat, ImageFormat, sniff_audio, sniff_image
from plyr.media.transcode import (
    DEFAULT_TARGET,
    DEFAULT_WAV_LIMIT_BYTES,
    Target,
    needs_transcode,
    transcode,
    transcode_reason,
)

__all__ = [
    "ACCEPTED_AUDIO",
    "ACCEPTED_IMAGES",
    "DEFAULT_TARGET",
    "DEFAULT_WAV_LIMIT_BYTES",
    "Artwork",
    "AudioFormat",
    "AudioInfo",
    "CorruptFile",
    "ImageFormat",
    "Loudness",
    "MediaError",
    "MetadataTooLarge",
    "Target",
    "UnsafeImage",
    "UnsupportedFormat",
    "UnsupportedImage",
    "artwork_from_bytes",
    "check_image",
    "integrated_loudness",
    "needs_transcode",
    "playback_gain_db",
    "probe_audio",
    "process_artwork",
    "sniff_audio",
    "sniff_image",
    "transcode",
    "transcode_reason",
]
