"""Album and song lists (getAlbumList, getAlbumList2, getRandomSongs, getSongsByGenre,
getTopSongs, getSimilarSongs2) over the package's library and Carol's shelf (`shelf.py`:
her own albums, plays and likes, and a taken-down track): every album-list type in its
order, paging, the taken-down track and a hidden account nowhere, the error codes; raw
XML (schema-checked) and JSON, and py-opensonic."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from libopensonic import errors
from playwright.async_api import Browser

from plyr.atproto.devnet import Network
from plyr.auth.subsonic_passwords import remove_password
from plyr.moderation.takedown import hide_account, unhide_account
from plyr.social.albums import albums_with_track
from tests.subsonic.conftest import Library, make_app_password, opensonic, raw
from tests.subsonic.schema import NS, error_code, json_call, xml_call
from tests.subsonic.shelf import Shelf, act_on_shelf, delete_tracks, upload_shelf
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, sign_in

TYPES = (
    "random",
    "newest",
    "highest",
    "frequent",
    "recent",
    "alphabeticalByName",
    "alphabeticalByArtist",
    "starred",
    "byYear",
    "byGenre",
)
YEAR = datetime.now(UTC).year
MINE = ("apple orchard", "middle single", "zebra crossing")


@pytest.fixture(scope="module")
async def carol(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    return await sign_in(browser, plyr, atproto_net, "carol.test")


@pytest.fixture(scope="module")
async def shelf(
    plyr: PlyrServer, carol: SignedIn, library: Library, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Shelf]:
    tracks = await upload_shelf(plyr, carol, tmp_path_factory.mktemp("shelf"))
    albums = {"middle single": f"si-{tracks['middle single']}"}
    for title in ("zebra one", "apple one", "vanishing"):
        (found,) = await albums_with_track(plyr.runtime, tracks[title])
        albums[found.name or ""] = f"al-{found.id}"
    await act_on_shelf(plyr, carol, tracks)  # its takedown clears the orderings' cache
    try:
        yield Shelf(carol, await make_app_password(plyr, carol), tracks, albums)
    finally:  # Carol as the later modules expect her: no app password, no tracks
        await remove_password(plyr.runtime, carol.did)
        await delete_tracks(plyr, carol, list(tracks.values()))


def _login(shelf: Shelf) -> dict[str, str]:
    return {"u": "carol.test", "p": shelf.password}


async def _xml(plyr: PlyrServer, shelf: Shelf, method: str, **params: Any) -> Any:
    async with raw(plyr) as http:
        values = {**_login(shelf), **{k: str(v) for k, v in params.items()}}
        _, root = await xml_call(http, method, values)
    return root


async def albums(plyr: PlyrServer, shelf: Shelf, kind: str, **params: Any) -> list[dict[str, str]]:
    """The albums of getAlbumList2 (XML, schema-checked) as attribute dicts."""
    root = await _xml(plyr, shelf, "getAlbumList2", **{"type": kind, "size": 500, **params})
    assert error_code(root) is None
    return [dict(album.attrib) for album in root.iter(f"{{{NS}}}album")]


async def songs(plyr: PlyrServer, shelf: Shelf, method: str, **params: Any) -> list[str]:
    root = await _xml(plyr, shelf, method, **params)
    assert error_code(root) is None, method
    return [song.attrib["id"] for song in root.iter(f"{{{NS}}}song")]


def mine(shelf: Shelf, found: list[dict[str, str]]) -> list[str]:
    """The names of Carol's albums among these, in their order."""
    ids = {shelf.albums[name]: name for name in MINE}
    return [ids[album["id"]] for album in found if album["id"] in ids]


def _created(album: dict[str, str]) -> datetime:
    return datetime.fromisoformat(album["created"])


async def test_newest_and_by_year(plyr: PlyrServer, shelf: Shelf) -> None:
    newest = await albums(plyr, shelf, "newest")
    assert mine(shelf, newest) == ["middle single", "apple orchard", "zebra crossing"]
    moments = [_created(album) for album in newest]
    assert moments == sorted(moments, reverse=True)
    this_year = await albums(plyr, shelf, "byYear", fromYear=YEAR, toYear=YEAR)
    assert mine(shelf, this_year) == ["zebra crossing", "apple orchard", "middle single"]
    assert [_created(a) for a in this_year] == sorted(_created(a) for a in this_year)
    assert {int(album["year"]) for album in this_year} == {YEAR}
    backwards = await albums(plyr, shelf, "byYear", fromYear=YEAR + 1, toYear=YEAR - 1)
    assert backwards == this_year[::-1]
    for offset in (0, 1, len(this_year) - 1, len(this_year) + 5):
        page = await albums(
            plyr, shelf, "byYear", fromYear=YEAR, toYear=YEAR, size=2, offset=offset
        )
        assert page == this_year[offset : offset + 2]
        back = await albums(
            plyr, shelf, "byYear", fromYear=YEAR, toYear=YEAR - 1, size=2, offset=offset
        )
        assert back == backwards[offset : offset + 2]
    assert await albums(plyr, shelf, "byYear", fromYear=1990, toYear=1991) == []


async def test_alphabetical_and_paging(plyr: PlyrServer, shelf: Shelf) -> None:
    by_name = await albums(plyr, shelf, "alphabeticalByName")
    assert mine(shelf, by_name) == ["apple orchard", "middle single", "zebra crossing"]
    paged: list[dict[str, str]] = []
    for offset in range(0, len(by_name) + 2, 2):
        page = await albums(plyr, shelf, "alphabeticalByName", size=2, offset=offset)
        assert len(page) == min(2, max(0, len(by_name) - offset))
        paged += page
    assert paged == by_name
    by_artist = await albums(plyr, shelf, "alphabeticalByArtist")
    carols = [
        i for i, album in enumerate(by_artist) if album["artistId"] == f"ar-{shelf.carol.did}"
    ]
    assert carols == list(range(carols[0], carols[0] + 3))  # together, in name order
    assert mine(shelf, by_artist) == ["apple orchard", "middle single", "zebra crossing"]
    assert len(await albums(plyr, shelf, "newest", size=2, offset=1)) == 2


async def test_plays_and_likes_orders(plyr: PlyrServer, shelf: Shelf) -> None:
    frequent = await albums(plyr, shelf, "frequent")
    assert mine(shelf, frequent) == ["apple orchard", "middle single", "zebra crossing"]
    plays = {album["id"]: int(album["playCount"]) for album in frequent}
    assert [plays[shelf.albums[name]] for name in MINE] == [4, 2, 1]
    counts = [int(album["playCount"]) for album in frequent]
    assert counts == sorted(counts, reverse=True)
    assert min(counts) > 0
    # highest = most liked: zebra crossing's two songs are liked, apple one once
    assert mine(shelf, await albums(plyr, shelf, "highest")) == ["zebra crossing", "apple orchard"]
    # Carol's own: apple one is her latest play and her latest like
    assert mine(shelf, await albums(plyr, shelf, "recent")) == ["apple orchard", "zebra crossing"]
    assert mine(shelf, await albums(plyr, shelf, "starred")) == ["apple orchard", "zebra crossing"]


async def test_by_genre_and_random(plyr: PlyrServer, shelf: Shelf) -> None:
    tagged = await albums(plyr, shelf, "byGenre", genre="shelf-x")
    assert [album["name"] for album in tagged] == ["apple orchard", "zebra crossing"]
    stripes = await albums(plyr, shelf, "byGenre", genre="stripes")
    assert [album["name"] for album in stripes] == ["middle single", "zebra crossing"]
    assert await albums(plyr, shelf, "byGenre", genre="no such tag at all") == []
    everything = {album["id"] for album in await albums(plyr, shelf, "alphabeticalByName")}
    assert {album["id"] for album in await albums(plyr, shelf, "random")} == everything
    three = await albums(plyr, shelf, "random", size=3)
    assert len({album["id"] for album in three}) == 3
    assert {a["id"] for a in three} <= everything


async def test_albums_and_singles_as_elements(
    plyr: PlyrServer, shelf: Shelf, library: Library
) -> None:
    found = {album["id"]: album for album in await albums(plyr, shelf, "alphabeticalByName")}
    zebra = found[shelf.albums["zebra crossing"]]
    assert (zebra["name"], zebra["songCount"], zebra["duration"]) == ("zebra crossing", "2", "4")
    assert zebra["artistId"] == f"ar-{shelf.carol.did}"
    single = found[f"si-{shelf.tracks['middle single']}"]
    assert (single["name"], single["songCount"]) == ("middle single", "1")
    assert f"si-{library.tracks['morning']}" in found  # the library's single too
    assert sum(1 for album in found.values() if album["name"] == library.album) == 1
    root = await _xml(plyr, shelf, "getAlbumList", type="alphabeticalByName", size=500)
    directories = {a.attrib["id"]: a.attrib for a in root.iter(f"{{{NS}}}album")}
    assert set(directories) == set(found)
    assert directories[shelf.albums["zebra crossing"]]["isDir"] == "true"
    assert directories[shelf.albums["zebra crossing"]]["title"] == "zebra crossing"
    async with raw(plyr) as http:
        params = {**_login(shelf), "type": "alphabeticalByName", "size": "500"}
        _, answer = await json_call(http, "getAlbumList2", params)
    assert [album["id"] for album in answer["albumList2"]["album"]] == list(found)
    assert answer["albumList2"]["album"][0]["songCount"] >= 1  # typed in JSON


async def test_the_taken_down_track_is_in_no_list(plyr: PlyrServer, shelf: Shelf) -> None:
    gone_album, gone_song = shelf.albums["vanishing act"], shelf.song("vanishing")
    extra = {"byYear": {"fromYear": YEAR, "toYear": YEAR}, "byGenre": {"genre": "shelf-x"}}
    for kind in TYPES:
        for method in ("getAlbumList", "getAlbumList2"):
            root = await _xml(plyr, shelf, method, type=kind, size=500, **extra.get(kind, {}))
            ids = {album.attrib["id"] for album in root.iter(f"{{{NS}}}album")}
            assert gone_album not in ids, (method, kind)
    for method, params in (
        ("getRandomSongs", {"size": 500}),
        ("getSongsByGenre", {"genre": "shelf-x", "count": 500}),
        ("getTopSongs", {"artist": "carol.test"}),
        ("getSimilarSongs2", {"id": f"ar-{shelf.carol.did}", "count": 500}),
    ):
        assert gone_song not in await songs(plyr, shelf, method, **params), method


async def test_song_lists(plyr: PlyrServer, shelf: Shelf) -> None:
    own = {shelf.song(t) for t in ("zebra one", "zebra two", "apple one", "middle single")}
    assert own <= set(await songs(plyr, shelf, "getRandomSongs", size=500))
    assert len(await songs(plyr, shelf, "getRandomSongs", size=2)) == 2
    tagged = await songs(plyr, shelf, "getRandomSongs", size=500, genre="shelf-x")
    assert set(tagged) == own - {shelf.song("middle single")}
    this_year = await songs(plyr, shelf, "getRandomSongs", size=500, fromYear=YEAR, toYear=YEAR)
    assert own <= set(this_year)
    assert await songs(plyr, shelf, "getRandomSongs", fromYear=1990, toYear=1991) == []
    by_genre = [shelf.song(t) for t in ("apple one", "zebra two", "zebra one")]  # newest first
    assert await songs(plyr, shelf, "getSongsByGenre", genre="shelf-x") == by_genre
    assert await songs(plyr, shelf, "getSongsByGenre", genre="shelf-x", count=2) == by_genre[:2]
    assert await songs(plyr, shelf, "getSongsByGenre", genre="shelf-x", offset=2) == by_genre[2:]
    top = [shelf.song(t) for t in ("apple one", "middle single", "zebra one", "zebra two")]
    assert await songs(plyr, shelf, "getTopSongs", artist="Carol.Test") == top
    assert await songs(plyr, shelf, "getTopSongs", artist="carol.test", count=1) == top[:1]
    assert await songs(plyr, shelf, "getTopSongs", artist="nobody.test") == []


async def test_similar_songs(plyr: PlyrServer, shelf: Shelf) -> None:
    own = {shelf.song(t) for t in ("zebra one", "zebra two", "apple one", "middle single")}
    radio = await songs(plyr, shelf, "getSimilarSongs2", id=f"ar-{shelf.carol.did}", count=500)
    assert set(radio) == own
    assert len(radio) == len(own)
    assert (
        len(await songs(plyr, shelf, "getSimilarSongs2", id=f"ar-{shelf.carol.did}", count=2)) == 2
    )
    like_apple = await songs(plyr, shelf, "getSimilarSongs2", id=shelf.song("apple one"))
    assert set(like_apple) == own - {shelf.song("apple one")}
    like_zebra = await songs(plyr, shelf, "getSimilarSongs2", id=shelf.albums["zebra crossing"])
    assert set(like_zebra) == {shelf.song("apple one"), shelf.song("middle single")}


@pytest.mark.parametrize(
    ("method", "params", "code"),
    [
        ("getAlbumList2", {}, 10),
        ("getAlbumList", {}, 10),
        ("getAlbumList2", {"type": "bestOf"}, 0),
        ("getAlbumList", {"type": "bestOf"}, 0),
        ("getAlbumList2", {"type": "newest", "musicFolderId": "2"}, 70),
        ("getAlbumList2", {"type": "newest", "size": "ten"}, 0),
        ("getAlbumList2", {"type": "byYear", "toYear": "2000"}, 10),
        ("getAlbumList2", {"type": "byYear", "fromYear": "2000"}, 10),
        ("getAlbumList2", {"type": "byGenre"}, 10),
        ("getRandomSongs", {"musicFolderId": "7"}, 70),
        ("getSongsByGenre", {}, 10),
        ("getTopSongs", {}, 10),
        ("getSimilarSongs2", {}, 10),
        ("getSimilarSongs2", {"id": "ar-did:plc:nobodyhere"}, 70),
        ("getSimilarSongs2", {"id": "tr-999999999"}, 70),
        ("getSimilarSongs2", {"id": "pl-1"}, 70),
    ],
)
async def test_errors(
    plyr: PlyrServer, shelf: Shelf, method: str, params: dict[str, str], code: int
) -> None:
    assert error_code(await _xml(plyr, shelf, method, **params)) == code
    ok = await _xml(plyr, shelf, "getAlbumList2", type="newest", musicFolderId=1)
    assert error_code(ok) is None


async def test_through_py_opensonic(plyr: PlyrServer, shelf: Shelf) -> None:
    async with opensonic(plyr, username="carol.test", password=shelf.password) as client:
        newest = await client.get_album_list2("newest", size=500)
        assert [a.id for a in newest] == [a["id"] for a in await albums(plyr, shelf, "newest")]
        by_year = await client.get_album_list("byYear", size=500, from_year=YEAR, to_year=YEAR)
        assert {shelf.albums[name] for name in MINE} <= {a.id for a in by_year}
        tagged = await client.get_album_list2("byGenre", genre="shelf-x")
        assert [a.name for a in tagged] == ["apple orchard", "zebra crossing"]
        assert tagged[1].song_count == 2
        assert tagged[1].artist_id == f"ar-{shelf.carol.did}"
        random = await client.get_random_songs(size=500, genre="stripes")
        assert {s.id for s in random} == {shelf.song("zebra one"), shelf.song("middle single")}
        by_genre = await client.get_songs_by_genre("shelf-x", count=1, offset=1)
        assert [s.title for s in by_genre] == ["zebra two"]
        top = await client.get_top_songs("carol.test", count=2)
        assert [s.title for s in top] == ["apple one", "middle single"]
        similar = await client.get_similar_songs2(shelf.song("middle single"), count=500)
        assert shelf.song("middle single") not in {s.id for s in similar}
        with pytest.raises(errors.SonicError) as refused:
            await client.get_album_list2("bestOf")
        assert type(refused.value) is errors.SonicError  # error 0, not 10


async def test_a_hidden_account_leaves_every_list(plyr: PlyrServer, shelf: Shelf) -> None:
    carols = {shelf.albums[name] for name in MINE}
    await hide_account(plyr.runtime, "carol.test", reason="a test", actor="tests")
    try:
        for kind in ("newest", "random", "frequent", "alphabeticalByArtist"):
            assert not carols & {a["id"] for a in await albums(plyr, shelf, kind)}, kind
        assert await albums(plyr, shelf, "byGenre", genre="stripes") == []
        assert await songs(plyr, shelf, "getRandomSongs", size=500, genre="shelf-x") == []
        assert await songs(plyr, shelf, "getTopSongs", artist="carol.test") == []
        root = await _xml(plyr, shelf, "getSimilarSongs2", id=f"ar-{shelf.carol.did}")
        assert error_code(root) == 70
    finally:
        await unhide_account(plyr.runtime, "carol.test", actor="tests")
    assert carols <= {a["id"] for a in await albums(plyr, shelf, "newest")}
