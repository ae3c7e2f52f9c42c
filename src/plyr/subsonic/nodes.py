"""The answer elements of songs, albums and artists, built once for every method: a song is
the same `Child` whether getAlbum, search3 or getStarred2 lists it.

Load with the domain's batch loaders (`songs` below, `plyr.tracks.library.albums`,
`plyr.tracks.library_artists.library_artists`), which leave out what listeners may not
meet, then build: `song` (a `Child`), `album` (`AlbumID3`, with `songs` for
`AlbumWithSongsID3`), `album_dir` (an album as a directory `Child`, getMusicDirectory and
getAlbumList), `artist` (`ArtistID3`, with `albums` for `ArtistWithAlbumsID3`),
`index_artist` (`Artist` of getIndexes).

Cover-art ids (`getCoverArt` takes each): `tr-` a song with artwork of its own; `al-` an
album (its list's cover, else its first song with artwork), given to the album and to its
songs without artwork; `si-` a single with artwork; `ar-` an artist with an avatar. An
element has no `coverArt` when there is no picture.

OpenSubsonic's additions are given as the spec asks (present, empty when plyr has nothing):
on songs `mediaType`, `played`, `genres`, `artists`, `displayArtist`, `albumArtists`,
`displayAlbumArtist`, `replayGain`, `channelCount`, `samplingRate`; on albums `genres`,
`artists`, `displayArtist`, `releaseTypes`, `isCompilation`. Each is in
`tests/fixtures/subsonic/opensubsonic-1.16.1.xsd`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from plyr.runtime import Runtime
from plyr.subsonic import answers, ids
from plyr.subsonic.answers import Node, Scalar
from plyr.tracks import library
from plyr.tracks.library import Album, Person, Song, artist_name
from plyr.tracks.library_artists import LibraryArtist

# ReplayGain 2.0 plays at -18 LUFS; plyr's own gain (`Track.gain_db`) aims at -14 LUFS,
# with its boost limited by the true peak. Shifting plyr's gain keeps that limit.
REPLAYGAIN_REFERENCE_LUFS = -18.0
PLYR_TARGET_LUFS = -14.0

# What players expect per extension (as plyr's /audio serves them).
CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "mp4": "audio/mp4",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "opus": "audio/ogg",
    "wav": "audio/wav",
    "aif": "audio/aiff",
    "aiff": "audio/aiff",
    "webm": "audio/webm",
    "mka": "audio/x-matroska",
}
_PATH_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


async def songs(runtime: Runtime, viewer_did: str | None, track_ids: Sequence[int]) -> list[Node]:
    """The `Child` of each song among these track ids, in their order (others left out),
    as `viewer_did` sees them (`starred`, `played`): a few queries for any number."""
    return [song(found) for found in await library.songs(runtime, viewer_did, track_ids)]


def suffix_of(key: str) -> str:
    return key.rpartition("/")[2].rpartition(".")[2].lower()


def content_type(suffix: str) -> str:
    return CONTENT_TYPES.get(suffix, "application/octet-stream")


def album_id_of(album: Album) -> str:
    if album.list_id is not None:
        return ids.album_id(album.list_id)
    assert album.single_track is not None
    return ids.single_id(album.single_track)


def song_album_id(found: Song) -> str:
    if found.album is not None:
        return ids.album_id(found.album.list_id)
    return ids.single_id(found.track.id)


def album_cover(album: Album) -> str | None:
    if album.has_cover or album.cover_track is not None:
        return album_id_of(album)
    return None


def song_cover(found: Song) -> str | None:
    if found.track.image_key:
        return ids.song_id(found.track.id)
    if found.album is not None and (found.album_has_cover or found.album_cover_track):
        return ids.album_id(found.album.list_id)
    return None


def artist_cover(entry: LibraryArtist) -> str | None:
    return ids.artist_id(entry.artist.did) if entry.artist.avatar_url else None


def _people(people: Sequence[Person]) -> list[Node]:
    return [Node({"id": ids.artist_id(p.did), "name": p.name}) for p in people]


def _path_part(text: str) -> str:
    return _PATH_UNSAFE.sub("_", text).strip(" .") or "_"


def _replay_gain(found: Song) -> Node:
    gain = found.track.gain_db
    if gain is None:
        return Node()
    shift = REPLAYGAIN_REFERENCE_LUFS - PLYR_TARGET_LUFS
    return Node({"trackGain": round(gain + shift, 2)})


def song(found: Song) -> Node:
    """A song's `Child`: the original file's size, type and bit rate; the stream plyr plays
    by default as `transcoded*` when it is another file (a copy made for browsers)."""
    track = found.track
    suffix = suffix_of(track.original_key)
    streamed = track.stream_key if track.stream_key not in (None, track.original_key) else None
    stream_suffix = suffix_of(streamed) if streamed else None
    duration = track.duration_seconds
    bit_rate = round(track.size_bytes * 8 / duration / 1000) if duration else None
    album_name = found.album.name if found.album is not None else track.title
    number = found.album.number if found.album is not None else 1
    main = Person(track.artist_did, track.artist_name)
    everyone = [main, *found.features]
    display = track.artist_name
    if found.features:
        display += " feat. " + ", ".join(p.name for p in found.features)
    album_artist = Person(found.artist.did, artist_name(found.artist))
    path = (
        f"{_path_part(track.artist_name)}/{_path_part(album_name)}/"
        f"{number:02d} {_path_part(track.title)}.{suffix}"
    )
    attrs: dict[str, Scalar | None] = {
        "id": ids.song_id(track.id),
        "parent": song_album_id(found),
        "isDir": False,
        "title": track.title,
        "album": album_name,
        "artist": track.artist_name,
        "track": number,
        "year": track.created_at.year,
        "genre": found.tags[0] if found.tags else None,
        "coverArt": song_cover(found),
        "size": track.size_bytes,
        "contentType": content_type(suffix),
        "suffix": suffix,
        "transcodedContentType": (track.stream_content_type or content_type(stream_suffix))
        if stream_suffix
        else None,
        "transcodedSuffix": stream_suffix,
        "duration": duration,
        "bitRate": bit_rate,
        "path": path,
        "isVideo": False,
        "playCount": track.play_count,
        "discNumber": 1,
        "created": track.created_at,
        "starred": found.liked_at,
        "albumId": song_album_id(found),
        "artistId": ids.artist_id(track.artist_did),
        "type": "music",
        # OpenSubsonic
        "mediaType": "song",
        "played": found.played_at,
        "displayArtist": display,
        "displayAlbumArtist": album_artist.name,
        "channelCount": track.channels,
        "samplingRate": track.sample_rate,
    }
    children: dict[str, answers.Child] = {
        "genres": [Node({"name": tag}) for tag in found.tags],
        "artists": _people(everyone),
        "albumArtists": _people([album_artist]),
        "replayGain": _replay_gain(found),
    }
    return Node(attrs, children)


def _album_attrs(album: Album) -> dict[str, Scalar | None]:
    return {
        "id": album_id_of(album),
        "name": album.name,
        "artist": artist_name(album.artist),
        "artistId": ids.artist_id(album.artist.did),
        "coverArt": album_cover(album),
        "songCount": album.song_count,
        "duration": album.duration,
        "playCount": album.play_count,
        "created": album.created,
        "year": album.created.year,
        "genre": album.tags[0] if album.tags else None,
    }


def album(found: Album, songs: Sequence[Node] | None = None) -> Node:
    """An `AlbumID3`; with `songs` (its `Child`ren, in order) an `AlbumWithSongsID3`."""
    attrs: dict[str, Scalar | None] = {
        **_album_attrs(found),
        # OpenSubsonic
        "displayArtist": artist_name(found.artist),
        "isCompilation": False,
    }
    children: dict[str, answers.Child] = {
        "genres": [Node({"name": tag}) for tag in found.tags],
        "artists": _people([Person(found.artist.did, artist_name(found.artist))]),
        "releaseTypes": ["single" if found.list_id is None else "album"],
    }
    if songs is not None:
        children["song"] = list(songs)
    return Node(attrs, children)


def album_dir(found: Album) -> Node:
    """An album as a directory `Child` (getMusicDirectory of an artist, getAlbumList)."""
    return Node(
        {
            "id": album_id_of(found),
            "parent": ids.artist_id(found.artist.did),
            "isDir": True,
            "title": found.name,
            "name": found.name,  # OpenSubsonic's getAlbumList example; py-opensonic needs it
            "songCount": found.song_count,
            "album": found.name,
            "artist": artist_name(found.artist),
            "year": found.created.year,
            "genre": found.tags[0] if found.tags else None,
            "coverArt": album_cover(found),
            "duration": found.duration,
            "playCount": found.play_count,
            "created": found.created,
            "albumId": album_id_of(found),
            "artistId": ids.artist_id(found.artist.did),
            "mediaType": "album",  # OpenSubsonic
        }
    )


def artist(entry: LibraryArtist, albums: Sequence[Node] | None = None) -> Node:
    """An `ArtistID3`; with `albums` (`AlbumID3`s) an `ArtistWithAlbumsID3`."""
    attrs: dict[str, Scalar | None] = {
        "id": ids.artist_id(entry.artist.did),
        "name": artist_name(entry.artist),
        "coverArt": artist_cover(entry),
        "artistImageUrl": entry.artist.avatar_url,
        "albumCount": entry.album_count,
    }
    return Node(attrs, {"album": list(albums)} if albums is not None else {})


def index_artist(entry: LibraryArtist) -> Node:
    """An `Artist` of getIndexes (a directory of albums)."""
    return Node(
        {
            "id": ids.artist_id(entry.artist.did),
            "name": artist_name(entry.artist),
            "artistImageUrl": entry.artist.avatar_url,
        }
    )
