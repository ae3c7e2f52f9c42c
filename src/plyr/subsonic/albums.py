"""The ID3 views of one artist, album or song: getArtist, getAlbum, getSong, and what plyr
knows about an artist or an album: getArtistInfo / getArtistInfo2, getAlbumInfo /
getAlbumInfo2.

An artist's biography is their plyr profile's bio; their pictures are their avatar.
Similar artists are those whose songs share the most tags with theirs (plyr has no
last.fm, so `includeNotPresent` has nothing to add). An album's notes are its
description (a single's, its track's); its pictures are plyr's public artwork addresses
(the list's cover, else its first song's artwork), which need no credentials.
"""

from __future__ import annotations

from plyr.social.profiles import get_bio
from plyr.subsonic import answers, ids, nodes
from plyr.subsonic.answers import Node, Payload, Value
from plyr.subsonic.errors import Code, SubsonicError, not_found
from plyr.subsonic.ids import SubsonicId
from plyr.subsonic.registry import Call, method
from plyr.tracks import library
from plyr.tracks.library import Album
from plyr.tracks.library_artists import (
    LibraryArtist,
    artist_albums,
    library_artist,
    similar_artists,
)

DEFAULT_SIMILAR = 20
MAX_SIMILAR = 100


async def _artist(call: Call, asked: SubsonicId) -> LibraryArtist:
    entry = await library_artist(call.runtime, asked.key)
    if entry is None:
        raise not_found(f"artist {str(asked)[:80]!r}")
    return entry


async def _album(call: Call, asked: SubsonicId) -> Album:
    """The album an `al-`/`si-` id names, or the album of a `tr-` song."""
    runtime, viewer = call.runtime, call.listener.did
    if asked.kind == "tr":
        found_songs = await library.songs(runtime, viewer, [asked.number])
        if not found_songs:
            raise not_found(f"song {str(asked)[:80]!r}")
        song = found_songs[0]
        if song.album is None:
            return library.single(song)
        found = await library.albums(runtime, [song.album.list_id])
    elif asked.kind == "al":
        found = await library.albums(runtime, [asked.number])
    else:
        found = await library.albums_by_ref(runtime, viewer, [("single", asked.number)])
    if not found:
        raise not_found(f"album {str(asked)[:80]!r}")
    return found[0]


async def _album_songs(call: Call, album: Album) -> list[Node]:
    if album.list_id is None:
        assert album.single_track is not None
        track_ids = [album.single_track]
    else:
        track_ids = await library.album_song_ids(call.runtime, album.list_id)
    return await nodes.songs(call.runtime, call.listener.did, track_ids)


@method("getArtist")
async def get_artist(call: Call) -> Payload:
    asked = ids.parse(call.params.require("id"), "ar")
    entry = await _artist(call, asked)
    albums = await artist_albums(call.runtime, asked.key)
    return {"artist": nodes.artist(entry, [nodes.album(album) for album in albums])}


@method("getAlbum")
async def get_album(call: Call) -> Payload:
    asked = ids.parse(call.params.require("id"), "al", "si")
    album = await _album(call, asked)
    return {"album": nodes.album(album, await _album_songs(call, album))}


@method("getSong")
async def get_song(call: Call) -> Payload:
    asked = ids.parse(call.params.require("id"), "tr")
    found = await nodes.songs(call.runtime, call.listener.did, [asked.number])
    if not found:
        raise not_found(f"song {str(asked)[:80]!r}")
    return {"song": found[0]}


def _count(call: Call) -> int:
    value = call.params.get("count")
    if value in (None, ""):
        return DEFAULT_SIMILAR
    try:
        count = int(value)
    except ValueError:
        raise SubsonicError(Code.GENERIC, "count must be a whole number") from None
    return max(0, min(count, MAX_SIMILAR))


async def _artist_info(call: Call) -> tuple[LibraryArtist, dict[str, Value], list[LibraryArtist]]:
    """The artist an artist, album or song id names, their info, and similar artists."""
    asked = ids.parse(call.params.require("id"), "ar", "al", "si", "tr")
    if asked.kind == "ar":
        entry = await _artist(call, asked)
    else:
        album = await _album(call, asked)
        entry = await _artist(call, SubsonicId("ar", album.artist.did))
    did = entry.artist.did
    info: dict[str, Value] = {}
    bio = await get_bio(call.runtime, did)
    if bio:
        info["biography"] = Value(bio)
    if entry.artist.avatar_url:
        for size in ("smallImageUrl", "mediumImageUrl", "largeImageUrl"):
            info[size] = Value(entry.artist.avatar_url)
    similar = await similar_artists(call.runtime, did, limit=_count(call))
    return entry, info, similar


@method("getArtistInfo")
async def get_artist_info(call: Call) -> Payload:
    _entry, info, similar = await _artist_info(call)
    children: dict[str, answers.Child] = {
        **info,
        "similarArtist": [nodes.index_artist(other) for other in similar],
    }
    return {"artistInfo": Node(children=children)}


@method("getArtistInfo2")
async def get_artist_info2(call: Call) -> Payload:
    _entry, info, similar = await _artist_info(call)
    children: dict[str, answers.Child] = {
        **info,
        "similarArtist": [nodes.artist(other) for other in similar],
    }
    return {"artistInfo2": Node(children=children)}


async def _album_info(call: Call) -> Node:
    asked = ids.parse(call.params.require("id"), "al", "si", "tr")
    album = await _album(call, asked)
    children: dict[str, Value] = {}
    if album.description:
        children["notes"] = Value(album.description)
    base = call.runtime.settings.public_url
    if album.has_cover and album.list_id is not None:
        picture = f"{base}/lists/{album.list_id}/cover"
    elif album.cover_track is not None:
        picture = f"{base}/images/{album.cover_track}"
    else:
        return Node(children=children)
    children["smallImageUrl"] = Value(f"{picture}/thumb")
    children["mediumImageUrl"] = Value(picture)
    children["largeImageUrl"] = Value(picture)
    return Node(children=children)


@method("getAlbumInfo")
async def get_album_info(call: Call) -> Payload:
    return {"albumInfo": await _album_info(call)}


@method("getAlbumInfo2")
async def get_album_info2(call: Call) -> Payload:
    return {"albumInfo": await _album_info(call)}
