"""search2 and search3 over the package's library: text queries through plyr's one search
(artists, albums with singles among them, songs; counts and offsets), the empty query that
players sync a whole library with (`query=` and `query=""`), paged in a stable order, a
taken-down track in neither, the error codes; raw XML (schema-checked), JSON, py-opensonic."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser

from plyr.atproto.devnet import Network
from plyr.moderation.takedown import take_down_track
from plyr.tracks import listing_cache
from tests.subsonic.conftest import Library, opensonic, raw
from tests.subsonic.schema import NS, error_code, json_call, xml_call
from tests.subsonic.shelf import delete_tracks
from tests.support.audio import make_audio
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import sign_in, upload_published

GROUPS = ("artist", "album", "song")
ALL = {"artistCount": 500, "albumCount": 500, "songCount": 500}


@pytest.fixture(scope="module")
async def ghost(
    browser: Browser,
    plyr: PlyrServer,
    atproto_net: Network,
    library: Library,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[int]:
    """Carol's "ghost song", a single: searchable until the tests take it down."""
    carol = await sign_in(browser, plyr, atproto_net, "carol.test")
    source = make_audio(tmp_path_factory.mktemp("ghost") / "ghost.mp3", "mp3", 2.0, 880)
    async with carol.client(plyr) as http:
        track = await upload_published(http, source, title="ghost song")
    listing_cache.clear_cache()  # in plyr's process: the sync lists it now, not in 10 s
    try:
        yield int(track["id"])
    finally:
        await delete_tracks(plyr, carol, [int(track["id"])])


def _login(alice_password: str) -> dict[str, str]:
    return {"u": "alice.test", "p": alice_password}


async def found(
    plyr: PlyrServer, password: str, method: str = "search3", **params: Any
) -> dict[str, list[dict[str, str]]]:
    """Each group of an XML answer (schema-checked) as attribute dicts, in order."""
    async with raw(plyr) as http:
        values = {**_login(password), **{k: str(v) for k, v in params.items()}}
        _, root = await xml_call(http, method, values)
    assert error_code(root) is None
    result = root.find(f"{{{NS}}}searchResult{method[-1]}")
    assert result is not None
    return {g: [dict(e.attrib) for e in result.iter(f"{{{NS}}}{g}")] for g in GROUPS}


def ids(entries: list[dict[str, str]]) -> list[str]:
    return [entry["id"] for entry in entries]


async def test_text_queries(plyr: PlyrServer, alice_password: str, library: Library) -> None:
    songs = await found(plyr, alice_password, query="song")
    album_songs = {f"tr-{library.tracks[title]}" for title in library.album_titles}
    assert album_songs <= set(ids(songs["song"]))
    night = await found(plyr, alice_password, query="night drives")
    (album,) = [a for a in night["album"] if a["name"] == library.album]
    assert album["id"].startswith("al-")
    assert album["songCount"] == "3"
    morning = await found(plyr, alice_password, query="morning")
    single = f"si-{library.tracks['morning']}"
    assert f"tr-{library.tracks['morning']}" in ids(morning["song"])
    assert single in ids(morning["album"])  # a single is an album of its own
    people = await found(plyr, alice_password, query="alice")
    alice = [a for a in people["artist"] if a["name"] == "alice.test"]
    assert len(alice) == 1
    assert int(alice[0]["albumCount"]) >= 2  # night drives and morning
    v2 = await found(plyr, alice_password, "search2", query="morning")
    assert single in ids(v2["album"])
    assert {a["isDir"] for a in v2["album"]} == {"true"}
    assert {a["title"] for a in v2["album"] if a["id"] == single} == {"morning"}
    assert await found(plyr, alice_password, query="zzqqxxnothing") == {g: [] for g in GROUPS}


async def test_text_counts_and_offsets(plyr: PlyrServer, alice_password: str) -> None:
    every = ids((await found(plyr, alice_password, query="song", songCount=50))["song"])
    assert len(every) >= 3
    first = await found(plyr, alice_password, query="song", songCount=1, albumCount=0)
    second = await found(plyr, alice_password, query="song", songCount=1, songOffset=1)
    assert ids(first["song"]) == every[:1]
    assert ids(second["song"]) == every[1:2]
    assert first["album"] == []
    none = await found(plyr, alice_password, query="song", artistCount=0, songCount=0)
    assert none["artist"] == none["song"] == []


async def test_the_empty_query_lists_everything_in_pages(
    plyr: PlyrServer, alice_password: str, library: Library
) -> None:
    whole = await found(plyr, alice_password, query="", **ALL)
    assert await found(plyr, alice_password, query='""', **ALL) == whole
    songs = set(ids(whole["song"]))
    assert {f"tr-{track_id}" for track_id in library.tracks.values()} <= songs
    albums = {a["name"]: a["id"] for a in whole["album"]}
    assert albums["morning"] == f"si-{library.tracks['morning']}"
    assert albums[library.album].startswith("al-")
    assert "bob's album" in albums
    assert {"alice.test", "bob.test"} <= {a["name"] for a in whole["artist"]}
    for group in GROUPS:
        assert len(set(ids(whole[group]))) == len(whole[group]), group
    paged: dict[str, list[dict[str, str]]] = {g: [] for g in GROUPS}
    offset = 0
    while True:
        page = await found(
            plyr,
            alice_password,
            query="",
            **{f"{g}Count": 2 for g in GROUPS},
            **{f"{g}Offset": offset for g in GROUPS},
        )
        if not any(page.values()):
            break
        for group in GROUPS:
            paged[group] += page[group]
        offset += 2
    assert paged == whole  # the same entries, the same order: nothing skipped or repeated
    v2 = await found(plyr, alice_password, "search2", query="", **ALL)
    assert [ids(v2[g]) for g in GROUPS] == [ids(whole[g]) for g in GROUPS]


async def test_a_taken_down_song_is_never_found(
    plyr: PlyrServer, alice_password: str, ghost: int
) -> None:
    song, single = f"tr-{ghost}", f"si-{ghost}"
    assert song in ids((await found(plyr, alice_password, query="ghost"))["song"])
    everything = await found(plyr, alice_password, query="", **ALL)
    assert song in ids(everything["song"])
    assert single in ids(everything["album"])
    await take_down_track(plyr.runtime, ghost, reason="a test takedown", actor="tests")
    for query in ("ghost", "ghost song", ""):
        for method in ("search2", "search3"):
            answer = await found(plyr, alice_password, method, query=query, **ALL)
            assert song not in ids(answer["song"]), (method, query)
            assert single not in ids(answer["album"]), (method, query)


async def test_json_says_what_xml_says(plyr: PlyrServer, alice_password: str) -> None:
    xml = await found(plyr, alice_password, query="", **ALL)
    async with raw(plyr) as http:
        _, answer = await json_call(http, "search3", {**_login(alice_password), "query": ""})
    result = answer["searchResult3"]
    assert [s["id"] for s in result["song"]] == ids(xml["song"])[:20]  # 20 by default
    assert [a["id"] for a in result["album"]] == ids(xml["album"])[:20]
    assert isinstance(result["album"][0]["songCount"], int)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, 10),
        ({"query": "song", "musicFolderId": "3"}, 70),
        ({"query": "song", "songCount": "many"}, 0),
        ({"query": "", "albumOffset": "-"}, 0),
    ],
)
async def test_errors(
    plyr: PlyrServer, alice_password: str, params: dict[str, str], code: int
) -> None:
    async with raw(plyr) as http:
        for method in ("search2", "search3"):
            _, root = await xml_call(http, method, {**_login(alice_password), **params})
            assert error_code(root) == code, method


async def test_through_py_opensonic(
    plyr: PlyrServer, alice_password: str, library: Library
) -> None:
    async with opensonic(plyr, username="alice.test", password=alice_password) as client:
        result = await client.search3("night drives", song_count=0, artist_count=0)
        assert [a.name for a in result.album or []] == [library.album]
        everything = await client.search3("", artist_count=500, album_count=500, song_count=500)
        ids_found = {s.id for s in everything.song or []}
        assert {f"tr-{t}" for t in library.tracks.values()} <= ids_found
        page = await client.search3("", song_count=2, song_offset=2, album_count=0)
        assert [s.id for s in page.song or []] == [s.id for s in everything.song or []][2:4]
        assert page.album is None or page.album == []
        old = await client.search2("morning")
        assert f"si-{library.tracks['morning']}" in {a.id for a in old.album or []}
