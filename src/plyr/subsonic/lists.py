"""Album and song lists: getAlbumList, getAlbumList2, getRandomSongs, getSongsByGenre,
getTopSongs, getSimilarSongs2, over `plyr.tracks.library_lists` and `song_lists`.

Albums include singles (a song in no album, `si-`). plyr has no ratings, no release years
and no genres of its own, so (docs/subsonic.md says why):

- `highest` is the most liked (everyone's likes of the album's songs);
- `frequent` the most played (everyone's counted plays), `recent` the caller's own latest
  counted plays, `starred` the albums holding a song the caller liked, latest like first;
- a year is the year the album's first song (a song) came to plyr (`created`);
- a genre is a tag.

`type` missing is error 10; a type Subsonic 1.16.1 does not have is error 0 (a bad value
of a given parameter, as Navidrome answers it: not 10, the parameter is there). `size` and
`count` are capped at 500 (the spec's maximum); a number that is not one is error 0.
`musicFolderId` is 1 (plyr's one folder) or absent; any other is error 70.
"""

from __future__ import annotations

from plyr.subsonic import nodes
from plyr.subsonic.answers import Node, Payload
from plyr.subsonic.browsing import music_folder
from plyr.subsonic.errors import Code, SubsonicError, missing, not_found
from plyr.subsonic.ids import parse
from plyr.subsonic.params import Params
from plyr.subsonic.registry import Call, method
from plyr.tracks import library, library_lists, song_lists
from plyr.tracks.library import Album
from plyr.tracks.library_artists import library_artist
from plyr.tracks.library_lists import AlbumOrder

MAX_SIZE = 500
ORDERS: dict[str, AlbumOrder] = {
    "random": "random",
    "newest": "newest",
    "highest": "most_liked",
    "frequent": "most_played",
    "recent": "recently_played",
    "alphabeticalByName": "by_name",
    "alphabeticalByArtist": "by_artist",
    "starred": "liked",
    "byYear": "by_year",
    "byGenre": "by_tag",
}


def number(params: Params, name: str, default: int | None = None) -> int | None:
    """A whole number parameter (`default` when absent or empty); error 0 otherwise."""
    value = params.get(name)
    if value is None or value.strip() == "":
        return default
    text = value.strip()
    if not (text.lstrip("-").isascii() and text.lstrip("-").isdigit()) or len(text) > 12:
        raise SubsonicError(Code.GENERIC, f"{name} must be a whole number, not {value[:20]!r}")
    return int(text)


def count(params: Params, name: str, default: int) -> int:
    """A size or count: `default` when absent, within 0..500."""
    found = number(params, name, default)
    assert found is not None
    return max(0, min(found, MAX_SIZE))


def offset(params: Params, name: str = "offset") -> int:
    found = number(params, name, 0)
    assert found is not None
    return max(0, found)


def required_number(params: Params, name: str) -> int:
    found = number(params, name)
    if found is None:
        raise missing(name)
    return found


async def _album_list(call: Call) -> list[Album]:
    params = call.params
    kind = params.require("type")
    order = ORDERS.get(kind)
    if order is None:
        raise SubsonicError(
            Code.GENERIC, f"unknown list type {kind[:40]!r}: use one of {', '.join(ORDERS)}"
        )
    music_folder(params)
    years = None
    if order == "by_year":
        years = (required_number(params, "fromYear"), required_number(params, "toYear"))
    tag = params.require("genre") if order == "by_tag" else None
    refs = await library_lists.album_page(
        call.runtime,
        order,
        limit=count(params, "size", 10),
        offset=offset(params),
        listener_did=call.listener.did,
        years=years,
        tag=tag,
    )
    return await library.albums_by_ref(
        call.runtime, call.listener.did, [(ref.kind, ref.id) for ref in refs]
    )


@method("getAlbumList")
async def get_album_list(call: Call) -> Payload:
    albums = await _album_list(call)
    return {"albumList": Node(children={"album": [nodes.album_dir(a) for a in albums]})}


@method("getAlbumList2")
async def get_album_list2(call: Call) -> Payload:
    albums = await _album_list(call)
    return {"albumList2": Node(children={"album": [nodes.album(a) for a in albums]})}


async def _songs(call: Call, track_ids: list[int]) -> list[Node]:
    return await nodes.songs(call.runtime, call.listener.did, track_ids)


@method("getRandomSongs")
async def get_random_songs(call: Call) -> Payload:
    params = call.params
    music_folder(params)
    genre = params.get("genre") or None
    found = await song_lists.random_tracks(
        call.runtime,
        limit=count(params, "size", 10),
        tag=genre,
        from_year=number(params, "fromYear"),
        to_year=number(params, "toYear"),
    )
    return {"randomSongs": Node(children={"song": await _songs(call, found)})}


@method("getSongsByGenre")
async def get_songs_by_genre(call: Call) -> Payload:
    params = call.params
    genre = params.require("genre")
    music_folder(params)
    found = await song_lists.tagged_tracks(
        call.runtime, genre, limit=count(params, "count", 10), offset=offset(params)
    )
    return {"songsByGenre": Node(children={"song": await _songs(call, found)})}


@method("getTopSongs")
async def get_top_songs(call: Call) -> Payload:
    params = call.params
    name = params.require("artist")
    found = await song_lists.artist_top_tracks(call.runtime, name, limit=count(params, "count", 50))
    return {"topSongs": Node(children={"song": await _songs(call, found)})}


async def _seed(call: Call, value: str) -> song_lists.Seed:
    """An artist's radio, or (OpenSubsonic's getSimilarSongs takes them) a song's or an
    album's: its artists' songs and songs sharing its tags, less the seed's own."""
    wanted = parse(value, "ar", "tr", "si", "al")
    if wanted.kind == "ar":
        if await library_artist(call.runtime, wanted.key) is None:
            raise not_found(f"artist {value[:80]!r}")
        return song_lists.Seed(artist_dids=(wanted.key,))
    if wanted.kind == "al":
        track_ids = await library.album_song_ids(call.runtime, wanted.number)
    else:
        track_ids = [wanted.number]
    found = await library.songs(call.runtime, None, track_ids)
    if not found:
        raise not_found(f"{'album' if wanted.kind == 'al' else 'song'} {value[:80]!r}")
    artists = tuple(dict.fromkeys(song.track.artist_did for song in found))
    return song_lists.Seed(artist_dids=artists, track_ids=[song.track.id for song in found])


@method("getSimilarSongs2")
async def get_similar_songs2(call: Call) -> Payload:
    params = call.params
    seed = await _seed(call, params.require("id"))
    found = await song_lists.similar_tracks(call.runtime, seed, limit=count(params, "count", 50))
    return {"similarSongs2": Node(children={"song": await _songs(call, found)})}
