"""Playlists: getPlaylists, getPlaylist, createPlaylist, updatePlaylist, deletePlaylist. A
playlist is an `fm.plyr.list` record (listType playlist) in its owner's PDS, changed
through `plyr.social.lists` and `plyr.social.playlists` like the web's; only its owner may
change it (someone else's: error 50).

What a Playlist says: `id` pl-…, `name`, `owner` (the handle), `public` (always: a record
in a PDS is readable by anyone, and plyr shows every playlist), `songCount` and `duration`
of the songs a player is shown (taken-down and hidden tracks, and records plyr does not
index, are left out), `created`, `changed`, `coverArt` (`pl-`: the playlist's own cover,
else its first song with artwork of its own, as getCoverArt serves it; none without).
plyr's list record has no comment and no private playlists: an update asking for a
comment or `public=false` is refused (error 0) and changes nothing, rather than answer
"done" for what plyr cannot hold.

`getPlaylists` with another user's `username` lists their playlists (they are public on
plyr's pages and in their PDS; Subsonic's admin rule guards nothing here).
"""

from __future__ import annotations

from collections.abc import Sequence

from plyr.artists import find_artist, get_artist
from plyr.db.models import ListType, MusicList
from plyr.social import lists, playlists
from plyr.subsonic import ids, nodes
from plyr.subsonic.acting import acting_session
from plyr.subsonic.answers import Node, Payload, Scalar
from plyr.subsonic.errors import Code, SubsonicError, missing
from plyr.subsonic.params import Params
from plyr.subsonic.registry import Call, method
from plyr.tracks.catalogue import listed_artist

UNNAMED = "untitled"  # a list record of another client may have no name; Subsonic needs one


def _playlist_id(value: str) -> int:
    return ids.parse(value, "pl").number


def _song_ids(params: Params, name: str) -> list[int]:
    values = params.getlist(name)
    if len(values) > lists.MAX_ITEMS:  # checked before any id is looked at
        raise SubsonicError(Code.GENERIC, f"a playlist holds at most {lists.MAX_ITEMS} songs")
    return [ids.parse(value, "tr").number for value in values]


def _attrs(
    row: MusicList, owner: str, song_count: int, duration: int, *, art: bool
) -> dict[str, Scalar | None]:
    return {
        "id": ids.playlist_id(row.id),
        "name": row.name or UNNAMED,
        "owner": owner,
        "public": True,
        "songCount": song_count,
        "duration": duration,
        "created": row.created_at,
        "changed": row.updated_at,
        "coverArt": ids.playlist_id(row.id) if row.image_key or art else None,
    }


def _seconds(song: Node) -> int:
    value = song.attrs.get("duration")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


async def _handle(call: Call, did: str) -> str:
    if did == call.listener.did:
        return call.listener.handle
    artist = await get_artist(call.runtime, did)
    return artist.handle if artist is not None else did


@method("getPlaylists")
async def get_playlists(call: Call) -> Payload:
    listener = call.listener
    asked = (call.params.get("username") or "").strip().removeprefix("@").lower()
    did, owner = listener.did, listener.handle
    if asked and asked not in (listener.handle.lower(), listener.did.lower()):
        artist = listed_artist(await find_artist(call.runtime, asked), listener.did)
        did, owner = artist.did, artist.handle
    found = await playlists.playlist_summaries(call.runtime, did)
    return {
        "playlists": Node(
            {},
            {
                "playlist": [
                    Node(
                        _attrs(
                            s.row, owner, s.song_count, s.duration_seconds, art=s.with_artwork > 0
                        )
                    )
                    for s in found
                ]
            },
        )
    }


async def _playlist_row(call: Call, list_id: int) -> MusicList:
    """A playlist the caller may see (not another type of list: 70)."""
    row = await lists.visible_list(call.runtime, list_id, call.listener.did)
    if row.list_type != ListType.playlist:
        raise SubsonicError(Code.NOT_FOUND, f"playlist {ids.playlist_id(list_id)} was not found")
    return row


async def _with_songs(call: Call, row: MusicList) -> Node:
    """The `PlaylistWithSongs`: the songs a player is shown, in the list's order (a song
    listed twice is there twice)."""
    entries = await lists.entries(call.runtime, row.id)
    track_ids = [entry.track.id for entry in entries if entry.track is not None]
    songs = await nodes.songs(call.runtime, call.listener.did, track_ids)
    by_id = {song.attrs["id"]: song for song in songs}
    shown = [by_id[key] for key in map(ids.song_id, track_ids) if key in by_id]
    duration = sum(_seconds(song) for song in shown)
    art = any(str(song.attrs.get("coverArt") or "").startswith("tr-") for song in shown)
    attrs = _attrs(row, await _handle(call, row.did), len(shown), duration, art=art)
    return Node(attrs, {"entry": shown})


@method("getPlaylist")
async def get_playlist(call: Call) -> Payload:
    row = await _playlist_row(call, _playlist_id(call.params.require("id")))
    return {"playlist": await _with_songs(call, row)}


async def _own_playlist(call: Call, value: str) -> MusicList:
    row = await _playlist_row(call, _playlist_id(value))
    if row.did != call.listener.did:
        raise SubsonicError(Code.NOT_AUTHORIZED, "only its owner can change this playlist")
    return row


async def _answer(call: Call, list_id: int) -> Payload:
    return {"playlist": await _with_songs(call, await _playlist_row(call, list_id))}


@method("createPlaylist")
async def create_playlist(call: Call) -> Payload:
    """`name` (+ `songId`…) makes a playlist; `playlistId` (+ `songId`…) replaces the songs
    of one (and renames it when `name` comes too). Answers the playlist (since 1.14.0)."""
    params = call.params
    playlist_id, name = params.get("playlistId"), (params.get("name") or "").strip()
    song_ids = _song_ids(params, "songId")
    if not playlist_id and not name:
        raise missing("name (or playlistId)")
    did = call.listener.did
    if playlist_id:
        row = await _own_playlist(call, playlist_id)
        session_id = await acting_session(call)
        await playlists.replace_songs(
            call.runtime, row.id, did, song_ids, name=name or None, session_id=session_id
        )
        return await _answer(call, row.id)
    session_id = await acting_session(call)
    created = await lists.create_list(
        call.runtime, did, ListType.playlist, name, session_id=session_id, track_ids=song_ids
    )
    return await _answer(call, created.id)


def _indexes(values: Sequence[str]) -> list[int]:
    found: list[int] = []
    for value in values:
        text = value.strip()  # ASCII digits only: "²".isdigit(), yet int("²") fails
        if not (text.isascii() and text.isdigit()) or len(text) > 6:
            raise SubsonicError(
                Code.GENERIC, f"songIndexToRemove is a position from 0, not {value[:20]!r}"
            )
        found.append(int(text))
    return sorted(set(found))


@method("updatePlaylist")
async def update_playlist(call: Call) -> Payload:
    params = call.params
    row = await _own_playlist(call, params.require("playlistId"))
    if (params.get("comment") or "").strip():
        raise SubsonicError(
            Code.GENERIC,
            "plyr playlists have no comment (the fm.plyr.list record holds none); "
            "nothing was changed",
        )
    if params.flag("public") is False:
        raise SubsonicError(
            Code.GENERIC,
            "plyr playlists are public (a record in your PDS is readable by anyone); "
            "nothing was changed",
        )
    name = (params.get("name") or "").strip()  # blank: no new name
    add = _song_ids(params, "songIdToAdd")
    remove = _indexes(params.getlist("songIndexToRemove"))
    if name or add or remove:
        session_id = await acting_session(call)
        await playlists.edit_playlist(
            call.runtime,
            row.id,
            call.listener.did,
            name=name or None,
            add_track_ids=add,
            remove_positions=remove,
            session_id=session_id,
        )
    return {}


@method("deletePlaylist")
async def delete_playlist(call: Call) -> Payload:
    row = await _own_playlist(call, call.params.require("id"))
    session_id = await acting_session(call)
    await lists.delete_list(call.runtime, row.id, call.listener.did, session_id)
    return {}
