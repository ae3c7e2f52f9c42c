"""Tracks: one, listings, charts, edits, deletion."""

from __future__ import annotations

from collections.abc import Sequence

from plyrfm.effects import Operation
from plyrfm.exchange import Context, call, call_many, call_no_answer
from plyrfm.models import LyricsEdit, RankedTrack, Track, TrackEdit
from plyrfm.operations.paging import track_pages
from plyrfm.routes import ROUTES


def track(ctx: Context, track_id: int) -> Operation[Track]:
    return (yield from call(ctx, ROUTES["track"], Track, path={"track_id": track_id}))


def tracks(ctx: Context, artist: str | None, page_size: int) -> Operation[None]:
    artist = artist.removeprefix("@") if artist else None
    return (yield from track_pages(ctx, ROUTES["tracks"], page_size, {"artist": artist}))


def my_tracks(ctx: Context, page_size: int) -> Operation[None]:
    return (yield from track_pages(ctx, ROUTES["my_tracks"], page_size))


def _listed(values: Sequence[str] | None) -> list[str] | None:
    return None if values is None else list(values)


def edit_track(
    ctx: Context,
    track_id: int,
    *,
    title: str | None,
    album: str | None,
    description: str | None,
    tags: Sequence[str] | None,
    features: Sequence[str] | None,
    self_labels: Sequence[str] | None,
    lyrics: LyricsEdit | None = None,
) -> Operation[Track]:
    edit = TrackEdit(
        title=title,
        album=album,
        description=description,
        tags=_listed(tags),
        features=_listed(features),
        self_labels=_listed(self_labels),
        lyrics=lyrics,
    )
    route = ROUTES["edit_track"]
    return (yield from call(ctx, route, Track, path={"track_id": track_id}, json_body=edit))


def delete_track(ctx: Context, track_id: int) -> Operation[None]:
    yield from call_no_answer(ctx, ROUTES["delete_track"], path={"track_id": track_id})


def top_tracks(ctx: Context, window: str, limit: int) -> Operation[list[RankedTrack]]:
    params = {"window": window, "limit": limit}
    return (yield from call_many(ctx, ROUTES["top_tracks"], RankedTrack, params=params))
