"""How tracks, people and records look over HTTP: the JSON shapes the API answers with, which
the pages also hand to their templates. Built from domain rows; URLs are this site's."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from plyr.db.models import Artist, SyncedRecord, Track
from plyr.runtime import Runtime
from plyr.social.tags import tags_by_track
from plyr.tracks.records import audio_url, image_url
from plyr.web.shared.examples import LYRICS, PERSON, TRACK, TRACK_SUMMARY, with_examples


class LyricsOut(BaseModel):
    """The track's lyrics as the record carries them: plain text, synced LRC, language."""

    model_config = with_examples(LYRICS)

    plain: str | None
    synced: str | None
    lang: str | None


def lyrics_out(value: dict[str, Any] | None) -> LyricsOut | None:
    if not value:
        return None
    return LyricsOut(plain=value.get("plain"), synced=value.get("synced"), lang=value.get("lang"))


class TrackOut(BaseModel):
    model_config = with_examples(TRACK)

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
    # An operator took it down (only its artist and operators see such a track).
    taken_down: bool = False
    takedown_reason: str | None = None
    # The artist's content warnings (the record's self-labels), e.g. ["sexual"].
    self_labels: list[str] = Field(default_factory=list)
    lyrics: LyricsOut | None = None


def track_out(runtime: Runtime, track: Track, tags: list[str]) -> TrackOut:
    settings = runtime.settings
    return TrackOut(
        id=track.id,
        title=track.title,
        artist=track.artist_name,
        artist_did=track.artist_did,
        album=track.album,
        description=track.description,
        tags=tags,
        features=list(track.features or []),
        duration=track.duration_seconds,
        file_type=track.file_type,
        audio_url=audio_url(settings, track.id),
        download_url=f"{audio_url(settings, track.id)}/download",
        image_url=image_url(settings, track.id) if track.image_key else None,
        thumbnail_url=f"{image_url(settings, track.id)}/thumb" if track.thumbnail_key else None,
        gain_db=track.gain_db,
        play_count=track.play_count,
        publish_state=track.publish_state.value,
        publish_error=track.publish_error,
        uri=track.atproto_uri,
        cid=track.atproto_cid,
        created_at=track.created_at.isoformat(),
        taken_down=track.taken_down_at is not None,
        takedown_reason=track.takedown_reason if track.taken_down_at is not None else None,
        self_labels=list(track.self_labels or []),
        lyrics=lyrics_out(track.lyrics),
    )


class TrackPage(BaseModel):
    """One page of a track listing, newest first."""

    model_config = with_examples({"tracks": [TRACK], "cursor": "1747207872482913-42"})

    tracks: list[TrackOut]
    cursor: str | None = Field(
        description="pass it back as `cursor` for the next page; null on the last page "
        "(a page may hold fewer tracks than `limit` and still have a next one)"
    )


async def track_page(runtime: Runtime, tracks: list[Track], cursor: str | None) -> TrackPage:
    """A page of tracks with their tags (one query for all of them)."""
    tags = await tags_by_track(runtime, [track.id for track in tracks])
    return TrackPage(
        tracks=[track_out(runtime, track, tags.get(track.id, [])) for track in tracks],
        cursor=cursor,
    )


class TrackSummary(BaseModel):
    model_config = with_examples(TRACK_SUMMARY)

    id: int
    title: str
    artist: str
    artist_did: str
    duration: int | None
    audio_url: str
    thumbnail_url: str | None
    uri: str | None
    cid: str | None


def track_summary(runtime: Runtime, track: Track) -> TrackSummary:
    settings = runtime.settings
    return TrackSummary(
        id=track.id,
        title=track.title,
        artist=track.artist_name,
        artist_did=track.artist_did,
        duration=track.duration_seconds,
        audio_url=audio_url(settings, track.id),
        thumbnail_url=f"{image_url(settings, track.id)}/thumb" if track.thumbnail_key else None,
        uri=track.atproto_uri,
        cid=track.atproto_cid,
    )


class Person(BaseModel):
    model_config = with_examples(PERSON)

    did: str
    handle: str
    display_name: str | None
    avatar_url: str | None


def person(artist: Artist) -> Person:
    return Person(
        did=artist.did,
        handle=artist.handle,
        display_name=artist.display_name,
        avatar_url=artist.avatar_url,
    )


def record_uri(runtime: Runtime, kind: str, row: SyncedRecord) -> str:
    """Where the record is (or will be): its key is chosen before it is written."""
    return row.atproto_uri or f"at://{row.did}/{runtime.lexicons.collection(kind)}/{row.rkey}"
