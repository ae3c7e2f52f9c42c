"""Methods players call that plyr answers plainly (`extras`): getSimilarSongs (v1),
getScanStatus, the empty bookmarks, radio stations and podcasts, the play queue answered
empty; and a non-ASCII digit as a playlist index (error 0, not a crash)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from plyr.subsonic.ids import artist_id
from tests.subsonic.conftest import Library, raw
from tests.subsonic.schema import NS, child, error_code, json_call, xml_call
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn


def _ids(root: ET.Element, tag: str) -> list[str]:
    return [found.attrib["id"] for found in root.iter(f"{{{NS}}}{tag}")]


async def test_similar_songs_v1_is_similar_songs2(
    plyr: PlyrServer, library: Library, alice: SignedIn, alice_key: str
) -> None:
    key = {"apiKey": alice_key}
    seed = {**key, "id": f"tr-{library.tracks['first song']}", "count": "50"}
    async with raw(plyr) as http:
        _, v1 = await xml_call(http, "getSimilarSongs", seed)
        _, v2 = await xml_call(http, "getSimilarSongs2", seed)
        assert sorted(_ids(child(v1, "similarSongs"), "song")) == sorted(
            _ids(child(v2, "similarSongs2"), "song")
        )
        assert _ids(v1, "song")  # the album's other songs at least
        assert f"tr-{library.tracks['first song']}" not in _ids(v1, "song")
        _, answer = await json_call(http, "getSimilarSongs", seed)
        assert sorted(s["id"] for s in answer["similarSongs"]["song"]) == sorted(_ids(v1, "song"))
        _, radio = await xml_call(http, "getSimilarSongs", {**key, "id": artist_id(alice.did)})
        assert error_code(radio) is None
        _, bad = await xml_call(http, "getSimilarSongs", {**key, "id": "tr-999999"})
        assert error_code(bad) == 70


async def test_scan_status_counts_the_listed_songs(
    plyr: PlyrServer, library: Library, alice_key: str
) -> None:
    key = {"apiKey": alice_key}
    async with raw(plyr) as http:
        _, root = await xml_call(http, "getScanStatus", key)
        status = child(root, "scanStatus")
        _, every = await xml_call(
            http, "search3", {**key, "query": "", "songCount": "500", "albumCount": "0"}
        )
        assert status.attrib["scanning"] == "false"
        assert int(status.attrib["count"]) == len(_ids(every, "song"))
        assert set(library.tracks.values()) <= {int(i[3:]) for i in _ids(every, "song")}
        _, answer = await json_call(http, "getScanStatus", key)
        assert answer["scanStatus"] == {"scanning": False, "count": len(_ids(every, "song"))}


async def test_empty_collections(plyr: PlyrServer, alice: SignedIn, alice_key: str) -> None:
    key = {"apiKey": alice_key}
    empties = {
        "getBookmarks": ("bookmarks", "bookmark"),
        "getInternetRadioStations": ("internetRadioStations", "internetRadioStation"),
        "getPodcasts": ("podcasts", "channel"),
        "getNewestPodcasts": ("newestPodcasts", "episode"),
    }
    async with raw(plyr) as http:
        for name, (element, item) in empties.items():
            _, root = await xml_call(http, name, key)
            assert list(child(root, element)) == [], name
            _, answer = await json_call(http, name, key)
            assert answer["status"] == "ok"
            assert answer[element] == {item: []}, name
        _, root = await xml_call(http, "savePlayQueue", {**key, "id": "tr-1", "position": "5"})
        assert error_code(root) is None
        _, root = await xml_call(http, "getPlayQueue", key)
        queue = child(root, "playQueue")
        assert list(queue) == []
        assert queue.attrib["username"] == alice.handle
        assert queue.attrib["changedBy"] == "plyr-tests"
        _, answer = await json_call(http, "getPlayQueue", key)
        assert answer["playQueue"]["entry"] == []


async def test_a_playlist_index_in_other_digits_is_refused(
    plyr: PlyrServer, library: Library, alice_key: str
) -> None:
    key = {"apiKey": alice_key}
    song = f"tr-{library.tracks['morning']}"
    async with raw(plyr) as http:
        _, root = await xml_call(http, "createPlaylist", {**key, "name": "digits", "songId": song})
        playlist = child(root, "playlist").attrib["id"]
        try:
            for index in ("\u00b2", "\u0661"):  # a superscript two; an Arabic-Indic one
                response, root = await xml_call(
                    http,
                    "updatePlaylist",
                    {**key, "playlistId": playlist, "songIndexToRemove": index},
                )
                assert response.status_code == 200
                assert error_code(root) == 0
            _, root = await xml_call(http, "getPlaylist", {**key, "id": playlist})
            assert _ids(root, "entry") == [song]  # nothing removed
        finally:
            await xml_call(http, "deletePlaylist", {**key, "id": playlist})
