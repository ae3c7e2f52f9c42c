"""star, unstar, getStarred, getStarred2: a starred song is a like, an `fm.plyr.like` record
in the listener's PDS, made by the same function as the web's like button (liking twice is
one like; it also goes on top of the liked list).

plyr's likes are of tracks only (the lexicon's subject is a track record, as in the real
plyr.fm), so albums and artists cannot be starred: `star` with an album or an artist is
refused (error 0, saying so) and changes nothing, `unstar` of one succeeds with nothing to
do (nothing of theirs is starred), and getStarred lists no albums or artists. Every id is
checked before anything changes; a song a listener may not meet is refused as its read is.
"""

from __future__ import annotations

from plyr.social import likes
from plyr.subsonic import ids, nodes
from plyr.subsonic.acting import acting_session, check_count
from plyr.subsonic.answers import Node, Payload
from plyr.subsonic.errors import Code, SubsonicError, missing
from plyr.subsonic.params import Params
from plyr.subsonic.registry import Call, method
from plyr.tracks.catalogue import playable_track

MAX_STARRED = 5000  # getStarred has no paging; more than this is no list a player shows
PAGE = 500

SONGS_ONLY = (
    "plyr stars songs only: a like is of a track (fm.plyr.like), so albums and artists "
    "cannot be starred; star their songs instead"
)


def _songs(params: Params, *, refuse_others: bool) -> list[int]:
    """The track ids of `id` (each once, in order); albums and artists (`albumId`,
    `artistId`, or an album or artist directory as `id`) refused or skipped."""
    if not any(params.getlist(name) for name in ("id", "albumId", "artistId")):
        raise missing("id (or albumId, artistId)")
    check_count(sum(len(params.getlist(name)) for name in ("id", "albumId", "artistId")))
    found: list[int] = []
    for value in params.getlist("id"):
        parsed = ids.parse(value, "tr", "al", "si", "ar")
        if parsed.kind == "tr":
            found.append(parsed.number)
        elif refuse_others:
            raise SubsonicError(Code.GENERIC, SONGS_ONLY)
    for value in params.getlist("albumId"):
        ids.parse(value, "al", "si")
    for value in params.getlist("artistId"):
        ids.parse(value, "ar")
    if refuse_others and (params.getlist("albumId") or params.getlist("artistId")):
        raise SubsonicError(Code.GENERIC, SONGS_ONLY)
    return list(dict.fromkeys(found))


@method("star")
async def star(call: Call) -> Payload:
    did = call.listener.did
    track_ids = _songs(call.params, refuse_others=True)
    for track_id in track_ids:  # all checked first: a bad one changes nothing
        await playable_track(call.runtime, track_id, did, audio_required=False)
    if not track_ids:
        return {}
    new = [i for i in track_ids if i not in await likes.is_liked(call.runtime, did, track_ids)]
    if not new:
        return {}  # all liked already: nothing to write
    session_id = await acting_session(call, len(new))
    for track_id in new:
        await likes.like(call.runtime, did, track_id, session_id)
    return {}


@method("unstar")
async def unstar(call: Call) -> Payload:
    """Taking a like back needs no check of the track (it may be gone or taken down since)."""
    track_ids = _songs(call.params, refuse_others=False)
    if not track_ids:
        return {}
    liked = await likes.is_liked(call.runtime, call.listener.did, track_ids)
    if not liked:
        return {}
    session_id = await acting_session(call, len(liked))
    for track_id in track_ids:
        if track_id in liked:
            await likes.unlike(call.runtime, call.listener.did, track_id, session_id)
    return {}


async def _starred_songs(call: Call) -> list[Node]:
    """The listener's liked songs, newest like first (likes of any client)."""
    track_ids: list[int] = []
    cursor: str | None = None
    while len(track_ids) < MAX_STARRED:
        page, cursor = await likes.liked_tracks_page(
            call.runtime, call.listener.did, before=cursor, limit=PAGE
        )
        track_ids += [track.id for track in page]
        if cursor is None:
            break
    found: list[Node] = []
    for start in range(0, min(len(track_ids), MAX_STARRED), PAGE):
        batch = track_ids[start : start + PAGE]
        found += await nodes.songs(call.runtime, call.listener.did, batch)
    return found


@method("getStarred")
async def get_starred(call: Call) -> Payload:
    return {"starred": Node({}, {"artist": [], "album": [], "song": await _starred_songs(call)})}


@method("getStarred2")
async def get_starred2(call: Call) -> Payload:
    songs = await _starred_songs(call)
    return {"starred2": Node({}, {"artist": [], "album": [], "song": songs})}
