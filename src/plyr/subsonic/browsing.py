"""Browsing by folders and indexes: getMusicFolders, getIndexes, getArtists,
getMusicDirectory, getGenres (the ID3 views of one artist, album or song are in
`albums`).

plyr has one library, every track it indexes: one music folder, id 1. A `musicFolderId`
other methods take is therefore 1 or absent (anything else: 70, as for a folder that does
not exist). Directories follow the ID3 shape: an artist's directory holds their albums
and singles, an album's (or a single's) its songs. Artists are indexed by the first
letter of their name after an ignored article ("The Beatles" under B); a name that does
not start with a letter A to Z (accents removed) goes under "#".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from plyr.subsonic import ids, nodes
from plyr.subsonic.answers import Node, Payload, Scalar
from plyr.subsonic.errors import Code, SubsonicError, not_found
from plyr.subsonic.params import Params
from plyr.subsonic.registry import Call, method
from plyr.tracks import library
from plyr.tracks.library_artists import (
    LibraryArtist,
    artist_albums,
    genres,
    library_artist,
    library_artists,
    library_changed_at,
)

MUSIC_FOLDER_ID = 1
MUSIC_FOLDER_NAME = "plyr"
IGNORED_ARTICLES = "The El La Los Las Le Les"
_ARTICLES = tuple(article.casefold() + " " for article in IGNORED_ARTICLES.split())
OTHER_INDEX = "#"


def music_folder(params: Params) -> None:
    """Check `musicFolderId`: absent, empty or plyr's one folder."""
    value = params.get("musicFolderId")
    if value not in (None, "", str(MUSIC_FOLDER_ID)):
        raise SubsonicError(Code.NOT_FOUND, f"music folder {value[:20]!r} was not found")


def sort_name(name: str) -> str:
    """The name as indexes sort it: without a leading ignored article, case folded."""
    folded = name.strip().casefold()
    for article in _ARTICLES:
        if folded.startswith(article) and len(folded) > len(article):
            return folded[len(article) :].lstrip()
    return folded


def index_letter(name: str) -> str:
    key = sort_name(name)
    first = unicodedata.normalize("NFKD", key[:1])[:1].upper() if key else ""
    return first if "A" <= first <= "Z" else OTHER_INDEX


def _indexed(entries: list[LibraryArtist], build: Callable[[LibraryArtist], Node]) -> list[Node]:
    """Index nodes (`name`, `artist`s) in letter order ("#" last), artists by sort name."""
    groups: dict[str, list[LibraryArtist]] = {}
    for entry in entries:
        groups.setdefault(index_letter(library.artist_name(entry.artist)), []).append(entry)
    letters = sorted(groups, key=lambda letter: (letter == OTHER_INDEX, letter))
    return [
        Node(
            {"name": letter},
            {
                "artist": [
                    build(entry)
                    for entry in sorted(
                        groups[letter],
                        key=lambda e: (sort_name(library.artist_name(e.artist)), e.artist.did),
                    )
                ]
            },
        )
        for letter in letters
    ]


@method("getMusicFolders")
async def get_music_folders(call: Call) -> Payload:
    folder = Node({"id": MUSIC_FOLDER_ID, "name": MUSIC_FOLDER_NAME})
    return {"musicFolders": Node(children={"musicFolder": [folder]})}


def _millis(value: str | None, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise SubsonicError(Code.GENERIC, f"{name} must be milliseconds since 1970") from None


@method("getIndexes")
async def get_indexes(call: Call) -> Payload:
    """Artists by letter; with `ifModifiedSince` (ms), no index unless something changed
    after it (`lastModified` says when the library last did)."""
    music_folder(call.params)
    since = _millis(call.params.get("ifModifiedSince"), "ifModifiedSince")
    changed = await library_changed_at(call.runtime)
    last_modified = int(changed.timestamp() * 1000) if changed is not None else 0
    attrs: dict[str, Scalar | None] = {
        "lastModified": last_modified,
        "ignoredArticles": IGNORED_ARTICLES,
    }
    if since is not None and last_modified <= since:
        return {"indexes": Node(attrs)}
    entries = await library_artists(call.runtime)
    return {"indexes": Node(attrs, {"index": _indexed(entries, nodes.index_artist)})}


@method("getArtists")
async def get_artists(call: Call) -> Payload:
    music_folder(call.params)
    entries = await library_artists(call.runtime)
    index = _indexed(entries, nodes.artist)
    return {"artists": Node({"ignoredArticles": IGNORED_ARTICLES}, {"index": index})}


@method("getMusicDirectory")
async def get_music_directory(call: Call) -> Payload:
    """An artist's directory (their albums and singles as directories) or an album's or a
    single's (its songs)."""
    asked = ids.parse(call.params.require("id"), "ar", "al", "si")
    runtime, viewer = call.runtime, call.listener.did
    if asked.kind == "ar":
        entry = await library_artist(runtime, asked.key)
        if entry is None:
            raise not_found(f"artist {str(asked)[:80]!r}")
        albums = await artist_albums(runtime, asked.key)
        name = library.artist_name(entry.artist)
        children = [nodes.album_dir(album) for album in albums]
        directory = Node({"id": str(asked), "name": name}, {"child": children})
        return {"directory": directory}
    if asked.kind == "al":
        found = await library.albums(runtime, [asked.number])
        track_ids = await library.album_song_ids(runtime, asked.number) if found else []
    else:
        found = await library.albums_by_ref(runtime, viewer, [("single", asked.number)])
        track_ids = [asked.number]
    if not found:
        raise not_found(f"album {str(asked)[:80]!r}")
    album = found[0]
    songs = await nodes.songs(runtime, viewer, track_ids)
    attrs: dict[str, Scalar | None] = {
        "id": str(asked),
        "parent": ids.artist_id(album.artist.did),
        "name": album.name,
        "playCount": album.play_count,
    }
    return {"directory": Node(attrs, {"child": songs})}


@method("getGenres")
async def get_genres(call: Call) -> Payload:
    """plyr's tags are its genres: those on songs, most used first."""
    found = await genres(call.runtime)
    return {
        "genres": Node(
            children={
                "genre": [
                    Node({"songCount": g.song_count, "albumCount": g.album_count}, text=g.name)
                    for g in found
                ]
            }
        )
    }
