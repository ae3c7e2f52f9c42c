"""Accepting an upload: check everything that can be checked at once (the real format of
the audio and artwork, what their headers declare, the form fields, featured artists), then
hand the files to storage and a processing job in one transaction. Nothing is stored for a
refused upload. The file name the browser sent is only kept as text (the title falls back
to it): the stored files are named by plyr, never by the uploader.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

from plyr.atproto.identity import IdentityError
from plyr.db.models import Upload, UploadStatus
from plyr.db.text import require_storable
from plyr.errors import ServiceError as ApiError
from plyr.jobs.queue import enqueue
from plyr.media import pool
from plyr.media.artwork import check_image
from plyr.media.errors import (
    MediaError,
    MetadataTooLarge,
    UnsafeImage,
    UnsupportedFormat,
    UnsupportedImage,
)
from plyr.media.sniff import sniff_audio
from plyr.runtime import Runtime
from plyr.social.tags import normalise_tags
from plyr.storage.base import put_file
from plyr.tracks import labels, lyrics
from plyr.tracks.forms import ReceivedForm

log = logging.getLogger(__name__)

MAX_TITLE = 256
MAX_ALBUM = 256
MAX_DESCRIPTION = 5000
MAX_FEATURES = 10
MAX_FILENAME = 255

# Control characters and the bidirectional overrides and isolates that make a name read
# differently from what it is ("song\u202egpj.mp3").
_UNSAFE_NAME_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_filename(name: str | None, fallback: str) -> str:
    """The uploader's file name as safe text: its last path part, no control or direction
    characters, at most MAX_FILENAME characters; `fallback` when nothing is left."""
    last = re.split(r"[/\\]", name or "")[-1]
    cleaned = _UNSAFE_NAME_CHARS.sub("", last).strip()
    if cleaned in ("", ".", ".."):
        return fallback
    return cleaned[:MAX_FILENAME]


def _refusal(exc: MediaError) -> ApiError:
    """The HTTP answer for a file refused at once; the message is the media layer's."""
    if isinstance(exc, UnsupportedFormat | UnsupportedImage):
        return ApiError(
            415,
            "unsupported_image" if isinstance(exc, UnsupportedImage) else "unsupported_format",
            str(exc),
        )
    if isinstance(exc, MetadataTooLarge | UnsafeImage):
        return ApiError(422, "too_large", str(exc))
    return ApiError(422, "corrupt_file", str(exc))


@dataclass(frozen=True, slots=True)
class TrackFields:
    """What the artist said about the track (empty strings: take it from the file's tags)."""

    title: str
    album: str
    description: str
    tags: list[str]
    features: list[dict[str, Any]]
    self_labels: list[str]  # content warnings (plyr.tracks.labels)
    lyrics: dict[str, str] | None = None  # the record's `lyrics` (plyr.tracks.lyrics)

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "album": self.album,
            "description": self.description,
            "tags": self.tags,
            "features": self.features,
            "self_labels": self.self_labels,
            "lyrics": self.lyrics,
        }


def _split(values: list[str]) -> list[str]:
    """Accept repeated fields and comma-separated lists alike."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _check_length(name: str, value: str, limit: int) -> str:
    require_storable(name, value)  # refused now, not when the job writes it (PostgreSQL)
    if len(value) > limit:
        raise ApiError(
            422,
            "invalid_input",
            f"the {name} is longer than {limit} characters",
            [{"field": name, "message": f"at most {limit} characters"}],
        )
    return value


async def resolve_features(
    runtime: Runtime, handles: list[str], own_did: str
) -> list[dict[str, Any]]:
    """Featured artists by handle (or DID) → `{did, handle}`; unknown ones are refused."""
    names = _split(handles)
    if len(names) > MAX_FEATURES:
        raise ApiError(422, "invalid_input", f"at most {MAX_FEATURES} featured artists")
    features: list[dict[str, Any]] = []
    for name in names:
        try:
            who = await runtime.identity.resolve(name.removeprefix("@"))
        except IdentityError as exc:
            raise ApiError(
                422,
                "invalid_input",
                f"featured artist {name}: {exc}",
                [{"field": "features", "message": str(exc)}],
            ) from exc
        if who.did == own_did or any(f["did"] == who.did for f in features):
            continue
        feature: dict[str, Any] = {"did": who.did}
        if who.handle:
            feature["handle"] = who.handle
        features.append(feature)
    return features


async def read_fields(runtime: Runtime, form: ReceivedForm, own_did: str) -> TrackFields:
    return TrackFields(
        title=_check_length("title", form.value("title"), MAX_TITLE),
        album=_check_length("album", form.value("album"), MAX_ALBUM),
        description=_check_length("description", form.value("description"), MAX_DESCRIPTION),
        tags=normalise_tags(form.fields.get("tags", [])),
        self_labels=labels.checked(form.fields.get("self_labels", [])),
        features=await resolve_features(runtime, form.fields.get("features", []), own_did),
        lyrics=lyrics.checked(
            form.value("lyrics"), form.value("synced_lyrics"), form.value("lyrics_lang")
        ),
    )


async def accept_upload(
    runtime: Runtime, *, did: str, session_id: str | None, form: ReceivedForm
) -> Upload:
    audio = form.files.get("file")
    if audio is None or (audio.size == 0 and not audio.filename):
        raise ApiError(422, "invalid_input", "choose an audio file to upload")
    if audio.size == 0:
        raise ApiError(422, "empty_file", "the file is empty")
    try:
        audio_format = await pool.run_cpu(sniff_audio, audio.path)
    except MediaError as exc:
        raise _refusal(exc) from exc
    image = form.files.get("image")
    if image is not None and image.size == 0:
        image = None  # the empty part a browser sends when no artwork was chosen
    if image is not None:
        try:
            # The header only: an image bomb is refused before it is stored.
            await pool.run_cpu(check_image, image.path)
        except MediaError as exc:
            raise _refusal(exc) from exc
    fields = await read_fields(runtime, form, did)

    upload_id = str(uuid.uuid4())
    storage = runtime.storage
    # Flat keys: deleting them leaves no empty folder behind on local storage.
    audio_key = f"incoming/{upload_id}.{audio_format.extension}"
    image_key = f"incoming/{upload_id}.image" if image is not None else None
    await put_file(storage, audio_key, audio.path, audio_format.mime)
    try:
        if image is not None and image_key is not None:
            await put_file(storage, image_key, image.path, image.content_type)
        async with runtime.sessions() as db:
            upload = Upload(
                id=upload_id,
                artist_did=did,
                session_id=session_id,
                status=UploadStatus.processing,
                filename=clean_filename(audio.filename, f"upload.{audio_format.extension}"),
                size_bytes=audio.size,
                audio_format=audio_format.extension,
                fields=fields.as_json(),
                incoming_audio_key=audio_key,
                incoming_image_key=image_key,
                warnings=[],
            )
            db.add(upload)
            job = await enqueue(
                db, "track.process", {"upload_id": upload_id}, dedupe_key=f"upload:{upload_id}"
            )
            upload.job_id = job.id
            await db.commit()
            await db.refresh(upload)
            db.expunge(upload)
    except BaseException:
        await storage.delete(audio_key)
        if image_key is not None:
            await storage.delete(image_key)
        raise
    log.info("upload accepted", extra={"upload_id": upload_id, "did": did, "bytes": audio.size})
    return upload
