"""What the MCP tools answer with: small records a model reads easily. Each is a tool's
structured content (its outputSchema comes from these classes) and has a readable text
twin, since some clients show only the text.

They are built from the SDK's models rather than being them: a tool's answer leaves out
what a model has no use for (content ids, loudness, record URIs) and adds the page URL a
person can open."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from plyrfm.models import (
    LikeState,
    ListDetail,
    NowPlaying,
    RankedTrack,
    SearchResults,
    Track,
)
from plyrfm.pages import list_page, page_url, track_page


class TrackCard(BaseModel):
    id: int
    title: str
    artist: str = Field(description="the artist's display name or handle")
    artist_did: str
    album: str | None
    description: str | None
    tags: list[str]
    duration_seconds: int | None
    play_count: int
    state: str = Field(description="published, or where the track stands before that")
    content_warnings: list[str] = Field(description="the artist's self-labels, e.g. sexual")
    url: str = Field(description="the track's page on plyr")
    audio_url: str
    image_url: str | None
    created_at: str


class TrackList(BaseModel):
    artist: str
    tracks: list[TrackCard]
    more: bool = Field(description="true when the artist has more tracks than listed")


class SearchHitCard(BaseModel):
    type: str = Field(description="track, artist, album, playlist or tag")
    id: str = Field(description="the track, list or tag id; an artist's DID")
    title: str
    subtitle: str | None
    url: str


class SearchAnswer(BaseModel):
    query: str
    total: int
    hits: list[SearchHitCard] = Field(description="best first, tracks before other kinds")


class RankedCard(BaseModel):
    plays: int
    track: TrackCard


class TopTracks(BaseModel):
    window: str
    tracks: list[RankedCard]


class PlayingCard(BaseModel):
    id: int
    title: str
    artist: str
    duration_seconds: int | None
    url: str


class NowPlayingCard(BaseModel):
    listener: str
    playing: bool
    track: PlayingCard | None = Field(description="null when nothing plays")
    position_seconds: float | None
    paused: bool | None


class Library(BaseModel):
    handle: str
    my_tracks: list[TrackCard] = Field(description="the caller's tracks in every state")
    liked_tracks: list[TrackCard] = Field(description="tracks the caller liked, newest like first")


class LikeAnswer(BaseModel):
    track_id: int
    liked: bool
    likes: int


class PlaylistCard(BaseModel):
    id: int
    name: str | None
    created: bool = Field(description="true when this call made the playlist")
    track_ids: list[int] = Field(description="the playlist's tracks in order")
    url: str


def track_card(track: Track, site: str) -> TrackCard:
    return TrackCard(
        id=track.id,
        title=track.title,
        artist=track.artist,
        artist_did=track.artist_did,
        album=track.album,
        description=track.description,
        tags=list(track.tags),
        duration_seconds=track.duration,
        play_count=track.play_count,
        state=track.publish_state,
        content_warnings=list(track.self_labels),
        url=track_page(site, track.id),
        audio_url=track.audio_url,
        image_url=track.image_url,
        created_at=track.created_at,
    )


def search_answer(results: SearchResults, site: str) -> SearchAnswer:
    hits = [
        SearchHitCard(
            type=hit.type,
            id=hit.id,
            title=hit.title,
            subtitle=hit.subtitle,
            url=page_url(site, hit.url),
        )
        for group in results.groups
        for hit in group.hits
    ]
    return SearchAnswer(query=results.query, total=results.total, hits=hits)


def ranked_card(ranked: RankedTrack, site: str) -> RankedCard:
    return RankedCard(plays=ranked.plays, track=track_card(ranked.track, site))


def now_playing_card(listener: str, playing: NowPlaying | None) -> NowPlayingCard:
    if playing is None:
        return NowPlayingCard(
            listener=listener, playing=False, track=None, position_seconds=None, paused=None
        )
    track = playing.track
    return NowPlayingCard(
        listener=playing.handle or listener,
        playing=True,
        track=PlayingCard(
            id=track.id,
            title=track.title,
            artist=track.artist,
            duration_seconds=track.duration,
            url=track.url,
        ),
        position_seconds=playing.position_ms / 1000,
        paused=playing.paused,
    )


def like_answer(state: LikeState) -> LikeAnswer:
    return LikeAnswer(track_id=state.track_id, liked=state.liked, likes=state.likes)


def playlist_card(playlist: ListDetail, site: str, *, created: bool) -> PlaylistCard:
    return PlaylistCard(
        id=playlist.id,
        name=playlist.name,
        created=created,
        track_ids=[entry.track.id for entry in playlist.entries if entry.track is not None],
        url=list_page(site, playlist.type, playlist.id),
    )


# --- the readable twins --------------------------------------------------------------------


def duration_text(seconds: int | float | None) -> str:
    if seconds is None:
        return "?:??"
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def track_line(card: TrackCard) -> str:
    details = [card.album or "", duration_text(card.duration_seconds), ", ".join(card.tags)]
    if card.state != "published":
        details.append(card.state)
    if card.content_warnings:
        details.append("warnings: " + ", ".join(card.content_warnings))
    shown = " · ".join(part for part in details if part)
    return f'#{card.id} "{card.title}" by {card.artist} ({shown}) {card.url}'


def track_lines(cards: Sequence[TrackCard], empty: str) -> str:
    return "\n".join(f"- {track_line(card)}" for card in cards) if cards else empty


def search_text(answer: SearchAnswer) -> str:
    if not answer.hits:
        return f'nothing on plyr matches "{answer.query}"'
    lines = [f'{answer.total} result(s) for "{answer.query}":']
    for hit in answer.hits:
        subtitle = f" — {hit.subtitle}" if hit.subtitle else ""
        lines.append(f"- {hit.type} {hit.id}: {hit.title}{subtitle} {hit.url}")
    return "\n".join(lines)


def top_text(top: TopTracks) -> str:
    if not top.tracks:
        return "no plays yet" if top.window == "all" else f"no plays in the last {top.window}"
    lines = [f"top tracks ({top.window}):"]
    for n, ranked in enumerate(top.tracks, 1):
        lines.append(f"{n}. {ranked.plays} plays — {track_line(ranked.track)}")
    return "\n".join(lines)


def now_playing_text(card: NowPlayingCard) -> str:
    track = card.track
    if track is None:
        return f"{card.listener} is not playing anything on plyr right now"
    where = f"at {duration_text(card.position_seconds)}" + (" (paused)" if card.paused else "")
    return (
        f'{card.listener} is playing #{track.id} "{track.title}" by {track.artist} '
        f"({duration_text(track.duration_seconds)}) {track.url}, {where}"
    )


def library_text(library: Library) -> str:
    return (
        f"@{library.handle}'s tracks:\n{track_lines(library.my_tracks, '(none yet)')}\n"
        f"liked:\n{track_lines(library.liked_tracks, '(nothing liked yet)')}"
    )


def playlist_text(card: PlaylistCard, track_id: int) -> str:
    made = "made playlist" if card.created else "playlist"
    return (
        f'added track #{track_id} to {made} #{card.id} "{card.name or ""}" '
        f"({len(card.track_ids)} track(s)) {card.url}"
    )
