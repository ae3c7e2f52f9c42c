"""The Content-Type a stored object is served with, from its key's extension: what
browsers expect (mimetypes' answers differ between systems). The web's media routes, the
public folder (`public_folder`) and docs/nginx.conf's `types` block agree on it."""

from __future__ import annotations

import mimetypes

CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "mp4": "audio/mp4",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "opus": "audio/ogg",
    "wav": "audio/wav",
    "aif": "audio/aiff",
    "aiff": "audio/aiff",
    "webm": "audio/webm",
    "mka": "audio/x-matroska",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "avif": "image/avif",
}


def content_type_for_key(key: str) -> str:
    extension = key.rpartition("/")[2].rpartition(".")[2].lower()
    known = CONTENT_TYPES.get(extension)
    if known:
        return known
    guessed, _ = mimetypes.guess_type(key)
    return guessed or "application/octet-stream"
