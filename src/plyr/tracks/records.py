"""The `fm.plyr.track` record plyr writes for a track, built from the index row."""

from __future__ import annotations

from typing import Any

from plyr.atproto.syntax import format_datetime
from plyr.config import Settings
from plyr.db.models import Track
from plyr.tracks.labels import record_labels


def audio_url(settings: Settings, track_id: int) -> str:
    return f"{settings.public_url}/audio/{track_id}"


def image_url(settings: Settings, track_id: int) -> str:
    return f"{settings.public_url}/images/{track_id}"


def track_record(
    settings: Settings,
    track: Track,
    *,
    tags: list[str],
    audio_blob: dict[str, Any] | None,
    image_blob: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The record's fields (without `$type`; the repo client adds it and validates). The
    blobs are the references the PDS answered `uploadBlob` with."""
    record: dict[str, Any] = {
        "title": track.title,
        "artist": track.artist_name,
        "fileType": track.file_type,
        "createdAt": format_datetime(track.created_at),
        "audioUrl": audio_url(settings, track.id),
    }
    if audio_blob is not None:
        record["audioBlob"] = audio_blob
    if track.album:
        record["album"] = track.album
    if track.duration_seconds is not None:
        record["duration"] = track.duration_seconds
    if track.features:
        record["features"] = track.features
    if track.image_key:
        record["imageUrl"] = image_url(settings, track.id)
        if image_blob is not None:
            record["imageBlob"] = image_blob
    if track.description:
        record["description"] = track.description
    if tags:
        record["tags"] = tags
    if track.lyrics:
        record["lyrics"] = track.lyrics  # plyr's own field ({plain, synced, lang})
    if track.support_gate:
        record["supportGate"] = track.support_gate  # the real plyr.fm's, kept as it came
    if labels := record_labels(track.self_labels or []):
        record["labels"] = labels  # com.atproto.label.defs#selfLabels
    return record
