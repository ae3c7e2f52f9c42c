"""search2 and search3: artists, albums and songs, each group with its own count and
offset (`artistCount`/`artistOffset`, `albumCount`/`albumOffset`, `songCount`/
`songOffset`; 20 and 0 by default, counts at most 500).

- A query with text goes to plyr's one search (`plyr.search.service.search`: the same
  ranking as the site, tracks labelled `sexual`/`porn` left out unless the caller opted
  in). Its albums are album lists, then the singles among its songs. That search ranks at
  most `service.MAX_LIMIT` (50) hits a group, so offsets page through those.
- An empty query (`query=` or `query=""`, quotes and all, as Symfonium and others send it
  to sync a whole library: OpenSubsonic documents it) lists everything: artists by DID,
  albums by id then singles by id, songs by id (`plyr.tracks.library_lists`); a stable
  order, so offsets page through a library of any size without gaps or repeats.

search2 answers `Artist`s and albums as directory `Child`ren; search3 `ArtistID3`s and
`AlbumID3`s. `query` itself is required (error 10 without it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from plyr.search.service import MAX_LIMIT, Audience, search
from plyr.social.preferences import get_preferences
from plyr.subsonic import nodes
from plyr.subsonic.answers import Node, Payload
from plyr.subsonic.browsing import music_folder
from plyr.subsonic.errors import missing
from plyr.subsonic.lists import count, offset
from plyr.subsonic.params import Params
from plyr.subsonic.registry import Call, method
from plyr.tracks import library, library_lists, library_sync
from plyr.tracks.library import Album, Song
from plyr.tracks.library_artists import LibraryArtist, library_artists

EVERYTHING = ("", '""', "''")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Window:
    count: int
    offset: int

    def of(self, items: Sequence[T]) -> list[T]:
        return list(items[self.offset : self.offset + self.count])


@dataclass(frozen=True, slots=True)
class Found:
    artists: list[LibraryArtist]
    albums: list[Album]
    songs: list[Song]


def _window(params: Params, group: str) -> Window:
    return Window(count(params, f"{group}Count", 20), offset(params, f"{group}Offset"))


async def _artists_in_order(call: Call, dids: list[str]) -> list[LibraryArtist]:
    found = {entry.artist.did: entry for entry in await library_artists(call.runtime, dids)}
    return [found[did] for did in dids if did in found]


async def _everything(call: Call, artists: Window, albums: Window, songs: Window) -> Found:
    runtime, did = call.runtime, call.listener.did
    dids = await library_sync.artist_dids_page(runtime, limit=artists.count, offset=artists.offset)
    refs = await library_lists.album_page(
        runtime, "by_id", limit=albums.count, offset=albums.offset
    )
    song_ids = await library_sync.song_ids_page(runtime, limit=songs.count, offset=songs.offset)
    return Found(
        await _artists_in_order(call, dids),
        await library.albums_by_ref(runtime, did, [(ref.kind, ref.id) for ref in refs]),
        await library.songs(runtime, did, song_ids),
    )


async def _matching(
    call: Call, query: str, artists: Window, albums: Window, songs: Window
) -> Found:
    runtime, did = call.runtime, call.listener.did
    prefs = await get_preferences(runtime, did)
    wanted = [
        kind
        for kind, window in (("artists", artists), ("albums", albums), ("tracks", songs))
        if window.count > 0
    ]
    if albums.count > 0 and "tracks" not in wanted:
        wanted.append("tracks")  # singles are albums too
    if not wanted:
        return Found([], [], [])
    deepest = max(window.offset + window.count for window in (artists, albums, songs))
    results = await search(
        runtime,
        query,
        types=wanted,
        limit=min(deepest, MAX_LIMIT),
        audience=Audience(did, prefs.show_warned_tracks),
    )
    found_songs = await library.songs(runtime, did, [int(hit.id) for hit in results.tracks])
    found_albums = await library.albums(runtime, [int(hit.id) for hit in results.albums])
    found_albums += [library.single(song) for song in found_songs if song.album is None]
    found_artists = await _artists_in_order(call, [hit.id for hit in results.artists])
    return Found(artists.of(found_artists), albums.of(found_albums), songs.of(found_songs))


async def _search(call: Call) -> Found:
    params = call.params
    query = params.get("query")
    if query is None:
        raise missing("query")
    music_folder(params)
    windows = (_window(params, "artist"), _window(params, "album"), _window(params, "song"))
    if query.strip() in EVERYTHING:
        return await _everything(call, *windows)
    return await _matching(call, query, *windows)


def _answer(found: Found, kind: Literal["search2", "search3"]) -> Node:
    if kind == "search2":
        artists = [nodes.index_artist(entry) for entry in found.artists]
        albums = [nodes.album_dir(album) for album in found.albums]
    else:
        artists = [nodes.artist(entry) for entry in found.artists]
        albums = [nodes.album(album) for album in found.albums]
    songs = [nodes.song(song) for song in found.songs]
    return Node(children={"artist": artists, "album": albums, "song": songs})


@method("search2")
async def search2(call: Call) -> Payload:
    return {"searchResult2": _answer(await _search(call), "search2")}


@method("search3")
async def search3(call: Call) -> Payload:
    return {"searchResult3": _answer(await _search(call), "search3")}
