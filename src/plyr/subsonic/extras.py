"""Methods players call at start-up or from their menus that plyr has little to say to:
answered as the spec shapes them (a 404 makes some players give up on the server).

- `getSimilarSongs`: the v1 twin of `getSimilarSongs2` (`lists`), the same songs.
- `getScanStatus`: plyr has no scan (uploads are indexed as they come): never scanning,
  `count` the songs listed.
- `getBookmarks`, `getInternetRadioStations`, `getPodcasts`, `getNewestPodcasts`: plyr has
  none of them: empty lists.
- `getPlayQueue` / `savePlayQueue`: answered empty and ok, not kept. plyr's own queue
  (`tracks.queue`) does not fit here yet: Subsonic's `current` is an `xs:int` in the
  1.16.1 schema, and plyr's song ids are not numbers (`tr-`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from plyr.subsonic import nodes
from plyr.subsonic.answers import Node, Payload, Scalar
from plyr.subsonic.lists import _seed, count
from plyr.subsonic.registry import Call, method
from plyr.tracks import song_lists
from plyr.tracks.library_sync import song_ids


@method("getSimilarSongs")
async def get_similar_songs(call: Call) -> Payload:
    params = call.params
    seed = await _seed(call, params.require("id"))
    found = await song_lists.similar_tracks(call.runtime, seed, limit=count(params, "count", 50))
    songs = await nodes.songs(call.runtime, call.listener.did, found)
    return {"similarSongs": Node(children={"song": songs})}


@method("getScanStatus")
async def get_scan_status(call: Call) -> Payload:
    listed = len(await song_ids(call.runtime))
    return {"scanStatus": Node({"scanning": False, "count": listed})}


@method("getBookmarks")
async def get_bookmarks(call: Call) -> Payload:
    return {"bookmarks": Node(children={"bookmark": []})}


@method("getInternetRadioStations")
async def get_internet_radio_stations(call: Call) -> Payload:
    return {"internetRadioStations": Node(children={"internetRadioStation": []})}


@method("getPodcasts")
async def get_podcasts(call: Call) -> Payload:
    return {"podcasts": Node(children={"channel": []})}


@method("getNewestPodcasts")
async def get_newest_podcasts(call: Call) -> Payload:
    return {"newestPodcasts": Node(children={"episode": []})}


@method("getPlayQueue")
async def get_play_queue(call: Call) -> Payload:
    attrs: dict[str, Scalar | None] = {
        "username": call.listener.handle,
        "changed": datetime.now(UTC),
        "changedBy": call.params.get("c") or "",
    }
    return {"playQueue": Node(attrs, {"entry": []})}


@method("savePlayQueue")
async def save_play_queue(call: Call) -> Payload:
    return {}
