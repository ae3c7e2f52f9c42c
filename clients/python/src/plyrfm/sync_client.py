"""`Client`: plyr's API from ordinary (blocking) Python. `AsyncClient` has the same
methods as coroutines; both run the same operations (operations/)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal, TypeVar

from plyrfm.connection import connection
from plyrfm.effects import Operation
from plyrfm.models import (
    Comment,
    LikedTracks,
    LikeState,
    ListDetail,
    ListSummary,
    LyricsEdit,
    Me,
    NowPlaying,
    Profile,
    RankedTrack,
    SearchResults,
    Stats,
    TagCount,
    Track,
)
from plyrfm.operations import downloads, people, social, tracks, uploads
from plyrfm.operations.downloads import OnDownloadProgress, OnExportProgress
from plyrfm.operations.uploads import OnUploadProgress
from plyrfm.transport import SyncTransport, Timeout

T = TypeVar("T")
Window = Literal["day", "week", "month", "all"]
Kind = Literal["playlist", "album"]


class Client:
    """plyr's API. `url` and `token` default to PLYR_URL / PLYR_TOKEN, then the config
    file `plyrfm login` writes (see plyrfm.config). Every request has a timeout (`timeout`:
    seconds, or a `Timeout`); 429 and 503 answers (and connection failures, for requests
    safe to repeat) are retried `max_retries` times, waiting `backoff` seconds doubling,
    or what Retry-After says. Every failure raises a `plyrfm.errors.PlyrError`.

    Use it as a context manager, or call `close()`."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | Timeout | None = None,
        max_retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self._connection = connection(
            url, token, timeout=timeout, max_retries=max_retries, backoff=backoff
        )
        self._ctx = self._connection.context
        config = self._connection.config
        self._transport = SyncTransport(config.url, config.token, self._connection.timeout)

    @property
    def url(self) -> str:
        """The base URL of the plyr this client talks to."""
        return self._connection.config.url

    @property
    def signed_in(self) -> bool:
        """Whether the client has a token to send."""
        return self._ctx.signed_in

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _run(self, operation: Operation[T]) -> T:
        return self._transport.run(operation)

    # you

    def me(self) -> Me:
        """Who the token belongs to (NotSignedIn without one)."""
        return self._run(people.me(self._ctx))

    # tracks

    def track(self, track_id: int) -> Track:
        """One track."""
        return self._run(tracks.track(self._ctx, track_id))

    def tracks(self, artist: str | None = None, *, page_size: int = 50) -> Iterator[Track]:
        """Published tracks, newest first; an artist's (handle or DID) when given. Pages of
        `page_size` are fetched as you iterate."""
        return self._transport.iterate(tracks.tracks(self._ctx, artist, page_size))

    def my_tracks(self, *, page_size: int = 50) -> Iterator[Track]:
        """Your tracks in every state (processing, publishing, failed…), newest first."""
        return self._transport.iterate(tracks.my_tracks(self._ctx, page_size))

    def edit_track(
        self,
        track_id: int,
        *,
        title: str | None = None,
        album: str | None = None,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        features: Sequence[str] | None = None,
        self_labels: Sequence[str] | None = None,
        lyrics: LyricsEdit | None = None,
    ) -> Track:
        """Change a track of yours; None leaves a field as it is, [] empties a list.
        `lyrics` replaces the track's lyrics whole (`LyricsEdit()` removes them)."""
        operation = tracks.edit_track(
            self._ctx,
            track_id,
            title=title,
            album=album,
            description=description,
            tags=tags,
            features=features,
            self_labels=self_labels,
            lyrics=lyrics,
        )
        return self._run(operation)

    def delete_track(self, track_id: int) -> None:
        """Delete a track of yours (its record in your PDS too)."""
        self._run(tracks.delete_track(self._ctx, track_id))

    def upload(
        self,
        path: Path | str,
        *,
        title: str | None = None,
        album: str | None = None,
        description: str | None = None,
        tags: Sequence[str] = (),
        features: Sequence[str] = (),
        self_labels: Sequence[str] = (),
        lyrics: str | None = None,
        synced_lyrics: str | None = None,
        lyrics_lang: str | None = None,
        cover: Path | str | None = None,
        on_progress: OnUploadProgress | None = None,
    ) -> Track:
        """Upload an audio file and wait until its track is published; returns it.
        `on_progress` gets an `UploadProgress`: phase "sending" while the file goes up, then
        each of the server's phases. Raises UploadFailed when processing fails,
        InvalidRequest when plyr refuses the file (not audio, too big, lyrics that are
        not LRC). `synced_lyrics` is LRC text (`[mm:ss.xx] words` lines)."""
        operation = uploads.upload(
            self._ctx,
            path,
            title=title,
            album=album,
            description=description,
            tags=tags,
            features=features,
            self_labels=self_labels,
            lyrics=lyrics,
            synced_lyrics=synced_lyrics,
            lyrics_lang=lyrics_lang,
            cover=cover,
            on_progress=on_progress,
        )
        return self._run(operation)

    def download(
        self,
        track_id: int,
        dest: Path | str | None = None,
        *,
        on_progress: OnDownloadProgress | None = None,
    ) -> Path:
        """Save a track's original file: to `dest` (a file or a folder; the current
        folder by default) under the name plyr gives it. Returns the file's path."""
        return self._run(downloads.download(self._ctx, track_id, dest, on_progress))

    def top_tracks(self, *, window: Window = "week", limit: int = 10) -> list[RankedTrack]:
        """The most played tracks of the last day, week, month, or of all time."""
        return self._run(tracks.top_tracks(self._ctx, window, limit))

    # discovery

    def search(
        self, query: str, *, types: Sequence[str] | None = None, limit: int = 20
    ) -> SearchResults:
        """Tracks, artists, albums, playlists and tags matching `query` (typos tolerated);
        `types` limits the groups, `limit` the hits per group (≤ 50)."""
        return self._run(people.search(self._ctx, query, types, limit))

    def stats(self) -> Stats:
        """The site's figures."""
        return self._run(people.stats(self._ctx))

    def tags(self, *, limit: int = 100) -> list[TagCount]:
        """Tags in use, most used first."""
        return self._run(social.tags(self._ctx, limit))

    # likes

    def like(self, track_id: int) -> LikeState:
        return self._run(social.like(self._ctx, track_id, True))

    def unlike(self, track_id: int) -> LikeState:
        return self._run(social.like(self._ctx, track_id, False))

    def likes(self, *, page_size: int = 50) -> Iterator[Track]:
        """Tracks you liked, the newest like first."""
        return self._transport.iterate(social.likes(self._ctx, page_size))

    def liked_by(self, handle: str) -> LikedTracks:
        """The tracks someone liked (when they share them)."""
        return self._run(social.liked_by(self._ctx, handle))

    # comments

    def comments(self, track_id: int) -> list[Comment]:
        return self._run(social.comments(self._ctx, track_id))

    def comment(self, track_id: int, text: str, *, at_ms: int = 0) -> Comment:
        """Comment on a track, at `at_ms` milliseconds into it."""
        return self._run(social.comment(self._ctx, track_id, text, at_ms))

    def edit_comment(self, comment_id: int, text: str) -> Comment:
        return self._run(social.edit_comment(self._ctx, comment_id, text))

    def delete_comment(self, comment_id: int) -> None:
        self._run(social.delete_comment(self._ctx, comment_id))

    # playlists and albums

    def lists(self, *, owner: str | None = None, kind: Kind | None = None) -> list[ListSummary]:
        """Someone's lists (handle or DID), yours when `owner` is None; newest first."""
        return self._run(social.lists(self._ctx, owner, kind))

    def playlists(self, owner: str | None = None) -> list[ListSummary]:
        return self.lists(owner=owner, kind="playlist")

    def albums(self, owner: str | None = None) -> list[ListSummary]:
        return self.lists(owner=owner, kind="album")

    def get_list(self, list_id: int) -> ListDetail:
        """A list with its entries."""
        return self._run(social.get_list(self._ctx, list_id))

    def create_playlist(self, name: str, track_ids: Sequence[int] = ()) -> ListDetail:
        return self._run(social.create_list(self._ctx, "playlist", name, track_ids))

    def create_album(self, name: str, track_ids: Sequence[int] = ()) -> ListDetail:
        """An album holds your own tracks."""
        return self._run(social.create_list(self._ctx, "album", name, track_ids))

    def add_to_list(self, list_id: int, track_id: int) -> ListDetail:
        return self._run(social.add_to_list(self._ctx, list_id, track_id))

    def remove_from_list(self, list_id: int, item_id: int) -> ListDetail:
        """Remove an entry (its `ListEntry.item_id`, not the track's id)."""
        return self._run(social.remove_from_list(self._ctx, list_id, item_id))

    def rename_list(self, list_id: int, name: str) -> ListDetail:
        return self._run(social.rename_list(self._ctx, list_id, name))

    def delete_list(self, list_id: int) -> None:
        self._run(social.delete_list(self._ctx, list_id))

    # people

    def profile(self, handle_or_did: str) -> Profile:
        return self._run(people.profile(self._ctx, handle_or_did))

    def now_playing(self, handle_or_did: str) -> NowPlaying | None:
        """What someone is playing now; None when nothing (or they do not share it)."""
        return self._run(people.now_playing(self._ctx, handle_or_did))

    # export

    def export(
        self, dest: Path | str | None = None, *, on_progress: OnExportProgress | None = None
    ) -> Path:
        """Everything of yours as one zip (originals, artwork, records, manifest.json):
        starts an export, follows it (`on_progress` gets each `Export` status, then
        `DownloadProgress`), downloads the zip to `dest`. Returns its path."""
        return self._run(downloads.export(self._ctx, dest, on_progress))
