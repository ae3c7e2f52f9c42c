"""getLyrics (Subsonic's `lyrics`: plain text, found by artist and title) and
getLyricsBySongId (OpenSubsonic's `songLyrics` v1: a `lyricsList` of `structuredLyrics`,
one per language, lines with start times when synced).

Both answer what `plyr.tracks.lyrics.lyrics_of` reads from the track's record (its
`lyrics`: the plain text first, then the synced lines). A track without lyrics answers
`<lyrics/>` (with an empty `value` in JSON, which clients such as py-opensonic require)
and a `lyricsList` with no entries. A song id that
names no song players may meet is error 70, as for any song.
"""

from __future__ import annotations

from plyr.subsonic import ids
from plyr.subsonic.answers import Node, Payload
from plyr.subsonic.errors import not_found
from plyr.subsonic.registry import Call, method
from plyr.tracks import lyrics
from plyr.tracks.catalogue import playable_track


@method("getLyrics")
async def get_lyrics(call: Call) -> Payload:
    params = call.params
    track = await lyrics.find_song(call.runtime, params.get("artist"), params.get("title"))
    found = lyrics.lyrics_of(track) if track is not None else []
    if track is None or not found:
        return {"lyrics": Node(text="")}
    return {"lyrics": Node({"artist": track.artist_name, "title": track.title}, text=found[0].text)}


def _structured(found: lyrics.Lyrics, artist: str, title: str) -> Node:
    synced = found.synced
    lines = [
        Node({"start": line.start_ms if synced else None}, text=line.text) for line in found.lines
    ]
    attrs = {"displayArtist": artist, "displayTitle": title, "lang": found.language}
    return Node({**attrs, "synced": synced}, {"line": lines})


@method("getLyricsBySongId")
async def get_lyrics_by_song_id(call: Call) -> Payload:
    track_id = ids.parse(call.params.require("id"), "tr").number
    track = await playable_track(call.runtime, track_id, call.listener.did, audio_required=False)
    if track.atproto_uri is None:  # not published yet: no song to players
        raise not_found(f"song {ids.song_id(track_id)}")
    structured = [
        _structured(found, track.artist_name, track.title) for found in lyrics.lyrics_of(track)
    ]
    return {"lyricsList": Node({}, {"structuredLyrics": structured})}
