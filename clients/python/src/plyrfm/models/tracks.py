"""Tracks: a track, a page of them, the brief form lists hold, edits, uploads' progress."""

from __future__ import annotations

from typing import Any, ClassVar

from plyrfm.models.base import PlyrModel


class Lyrics(PlyrModel):
    """A track's lyrics: plain text, synced LRC (`[mm:ss.xx] words`), language (BCP-47)."""

    __schema__ = "LyricsOut"

    plain: str | None
    synced: str | None
    lang: str | None


class LyricsEdit(PlyrModel):
    """New lyrics for a track, whole: a part left out (None) or empty is removed."""

    __schema__ = "LyricsEdit"

    plain: str | None = None
    synced: str | None = None
    lang: str | None = None


class Track(PlyrModel):
    """A track, as `GET /api/tracks/{id}` answers it."""

    __schema__ = "TrackOut"

    id: int
    title: str
    artist: str
    artist_did: str
    album: str | None
    description: str | None
    tags: list[str]
    features: list[dict[str, Any]]
    duration: int | None
    file_type: str
    audio_url: str
    download_url: str
    image_url: str | None
    thumbnail_url: str | None
    gain_db: float | None
    play_count: int
    publish_state: str
    publish_error: str | None
    uri: str | None
    cid: str | None
    created_at: str
    taken_down: bool = False
    takedown_reason: str | None = None
    self_labels: list[str] = []
    lyrics: Lyrics | None = None


class TrackPage(PlyrModel):
    """One page of tracks; `cursor` asks for the next one (None: this was the last)."""

    __schema__ = "TrackPage"

    tracks: list[Track]
    cursor: str | None


class TrackSummary(PlyrModel):
    """A track in brief (in lists and liked tracks)."""

    __schema__ = "TrackSummary"

    id: int
    title: str
    artist: str
    artist_did: str
    duration: int | None
    audio_url: str
    thumbnail_url: str | None
    uri: str | None
    cid: str | None


class RankedTrack(PlyrModel):
    """A track in a chart, with its plays in the chart's window."""

    __schema__ = "RankedTrackOut"

    plays: int
    track: Track


class TrackEdit(PlyrModel):
    """The body of `PATCH /api/tracks/{id}`: None leaves a field as it is."""

    __schema__ = "TrackEdit"

    title: str | None = None
    album: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    features: list[str] | None = None
    self_labels: list[str] | None = None
    lyrics: LyricsEdit | None = None


class UploadAccepted(PlyrModel):
    """The answer to an upload: where to follow it."""

    __schema__ = "UploadAccepted"

    upload_id: str
    progress_url: str
    status_url: str


class Progress(PlyrModel):
    """Where an upload stands on the server (each SSE `progress` event carries one)."""

    __schema__: ClassVar[str | None] = "Progress"

    phase: str
    percent: int
    message: str
    warnings: list[str]
    track_id: int | None
    error: str | None
    done: bool


class UploadProgress(Progress):
    """What `upload(on_progress=…)` receives: first phase "sending" while the file goes
    up (`bytes_sent` of `bytes_total`), then the server's phases (queued, receiving,
    probing, hashing, transcoding, loudness, artwork, publishing; then published or
    failed). Client-side: it has no schema of its own."""

    __schema__: ClassVar[str | None] = None

    bytes_sent: int | None = None
    bytes_total: int | None = None

    @classmethod
    def of(cls, progress: Progress) -> UploadProgress:
        return cls(**progress.model_dump())


class DownloadProgress(PlyrModel):
    """What `download`/`export(on_progress=…)` receive while the bytes come in
    (`bytes_total` is None when the server does not say the size)."""

    bytes_received: int
    bytes_total: int | None
