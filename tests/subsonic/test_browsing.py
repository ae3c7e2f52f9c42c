"""Browsing over Subsonic: getIndexes, getArtists, getArtist, getAlbum, getSong,
getMusicDirectory, getGenres, getArtistInfo(2), getAlbumInfo(2), through py-opensonic and
raw httpx (every XML answer schema-checked, and the same as the JSON answer), with an app
password and with an API key.

Besides the package's library, this module adds (and removes when done) tracks of its own:
alice's album "b-sides" whose first song is taken down, a single with notes, and a song of
carol's whose account is hidden: neither may appear anywhere.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from libopensonic import errors
from playwright.async_api import Browser

from plyr.atproto.devnet import Network
from plyr.moderation import takedown
from tests.subsonic.answer_pairs import both, call_text, failure
from tests.subsonic.conftest import Library, opensonic, raw
from tests.support.audio import make_audio
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, sign_in, upload_published

SONG_SECONDS = 6
OWN_TAG = "b-side"
HIDDEN_TAG = "carol-only"


@dataclass(frozen=True)
class Extra:
    gone: int  # alice's, first on "b-sides", taken down
    kept: int  # alice's, second on "b-sides", featuring bob
    liner: int  # alice's single with a description
    hidden: int  # carol's single (tagged ambient too), her account hidden
    carol_did: str


async def _delete(http: httpx.AsyncClient, track_id: int) -> None:
    response = await http.delete(f"/api/tracks/{track_id}")
    assert response.status_code in (202, 404), response.text
    async with asyncio.timeout(30):
        while True:
            if (await http.get(f"/api/tracks/{track_id}")).status_code == 404:
                return
            await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
async def extra(
    plyr: PlyrServer,
    library: Library,
    alice: SignedIn,
    browser: Browser,
    atproto_net: Network,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Extra]:
    carol = await sign_in(browser, plyr, atproto_net, "carol.test")
    folder = tmp_path_factory.mktemp("browsing-audio")
    tracks: dict[str, int] = {}
    async with alice.client(plyr) as http, carol.client(plyr) as carol_http:
        for title, fields in (
            ("gone song", {"album": "b-sides"}),
            ("kept song", {"album": "b-sides", "features": "bob.test"}),
            ("liner", {"description": "recorded in one take"}),
        ):
            source = make_audio(folder / f"{title}.mp3", "mp3", SONG_SECONDS, 300 + len(tracks))
            found = await upload_published(http, source, title=title, tags=OWN_TAG, **fields)
            tracks[title] = int(found["id"])
        source = make_audio(folder / "carol.mp3", "mp3", SONG_SECONDS, 880)
        tags = f"ambient, {HIDDEN_TAG}"
        found = await upload_published(carol_http, source, title="hidden song", tags=tags)
        tracks["hidden song"] = int(found["id"])
        runtime = plyr.runtime
        await takedown.take_down_track(
            runtime, tracks["gone song"], reason="test notice", actor="tests"
        )
        await takedown.hide_account(runtime, carol.did, reason="test hiding", actor="tests")
        try:
            yield Extra(
                tracks["gone song"],
                tracks["kept song"],
                tracks["liner"],
                tracks["hidden song"],
                carol.did,
            )
        finally:  # leave the package's plyr as the other modules expect it
            await takedown.unhide_account(runtime, carol.did, actor="tests")
            await _delete(carol_http, tracks["hidden song"])
            for title in ("gone song", "kept song", "liner"):
                await _delete(http, tracks[title])


# --- the tests ---------------------------------------------------------------------------


def _names(index: list[dict[str, Any]]) -> dict[str, list[str]]:
    return {entry["name"]: [a["id"] for a in entry.get("artist", [])] for entry in index}


async def test_artists_and_indexes(
    plyr: PlyrServer,
    library: Library,
    alice: SignedIn,
    bob: SignedIn,
    alice_password: str,
    extra: Extra,
) -> None:
    me = {"u": "alice.test", "p": alice_password}
    async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
        artists = await sonic.get_artists()
        indexes = await sonic.get_indexes()
    assert artists.ignored_articles == indexes.ignored_articles == "The El La Los Las Le Les"
    by_letter = {i.name: {a.id: a for a in i.artist or []} for i in artists.index or []}
    alice_entry = by_letter["A"][f"ar-{alice.did}"]
    assert alice_entry.name == "alice.test"
    assert f"ar-{bob.did}" in by_letter["B"]
    everyone = {a for letter in by_letter.values() for a in letter}
    assert f"ar-{extra.carol_did}" not in everyone
    classic = {i.name: [a.id for a in i.artist or []] for i in indexes.index or []}
    assert classic == {letter: list(found) for letter, found in by_letter.items()}
    assert indexes.last_modified > 0

    async with raw(plyr) as http:
        answer = await both(http, "getArtists", me)
        assert _names(answer["artists"]["index"])["A"][0] == f"ar-{alice.did}"
        answer = await both(http, "getIndexes", {**me, "musicFolderId": "1"})
        last = answer["indexes"]["lastModified"]
        unchanged = await both(http, "getIndexes", {**me, "ifModifiedSince": str(last)})
        assert unchanged["indexes"] == {"lastModified": last, "ignoredArticles": IGNORED}
        changed = await both(http, "getIndexes", {**me, "ifModifiedSince": str(last - 1)})
        assert _names(changed["indexes"]["index"]) == _names(answer["indexes"]["index"])
        assert await failure(http, "getIndexes", {**me, "ifModifiedSince": "soon"}) == 0
        for method in ("getIndexes", "getArtists"):
            assert await failure(http, method, {**me, "musicFolderId": "2"}) == 70


IGNORED = "The El La Los Las Le Les"


async def test_artist_albums_and_songs(
    plyr: PlyrServer, library: Library, alice: SignedIn, alice_key: str, extra: Extra
) -> None:
    """With an API key: alice's albums oldest first (the album, the single, b-sides with
    only its kept song), an album's songs in order with their files' facts."""
    async with opensonic(plyr, api_key=alice_key) as sonic:
        artist = await sonic.get_artist(f"ar-{alice.did}")
        albums = {album.name: album for album in artist.album or []}
        assert [a.name for a in artist.album or []][:3] == [library.album, "morning", "b-sides"]
        assert artist.album_count == len(artist.album or []) >= 4  # "liner" too
        night = albums[library.album]
        assert night.id.startswith("al-")
        assert night.song_count == 3
        assert night.duration == 3 * SONG_SECONDS
        assert night.cover_art == night.id
        assert night.artist_id == f"ar-{alice.did}"
        assert night.genre == "ambient"
        assert [g.name for g in night.genres or []] == [
            "ambient",
            "night",
        ]
        morning = albums["morning"]
        assert morning.id == f"si-{library.tracks['morning']}"
        assert morning.song_count == 1
        assert morning.cover_art is None  # no artwork
        b_sides = albums["b-sides"]
        assert b_sides.song_count == 1
        assert b_sides.duration == SONG_SECONDS

        album = await sonic.get_album(night.id)
        songs = album.song or []
        first, second, third = (library.tracks[t] for t in library.album_titles)
        assert [s.id for s in songs] == [f"tr-{first}", f"tr-{second}", f"tr-{third}"]
        assert [s.track for s in songs] == [1, 2, 3]
        assert [s.suffix for s in songs] == ["flac", "mp3", "m4a"]
        assert [s.content_type for s in songs] == ["audio/flac", "audio/mpeg", "audio/mp4"]
        assert [s.cover_art for s in songs] == [f"tr-{first}", night.id, night.id]
        for song in songs:
            assert song.parent == song.album_id == night.id
            assert song.album == library.album
            assert song.is_dir is False
            assert song.type == "music"
            assert song.media_type == "song"
            assert song.duration == SONG_SECONDS
            assert song.artist_id == f"ar-{alice.did}"
            assert song.size
            assert song.bit_rate
            assert song.transcoded_suffix is None
            assert [g.name for g in song.genres or []] == ["ambient", "night"]
            assert song.replay_gain is not None
            assert song.replay_gain.track_gain is not None
            assert song.channel_count
            assert song.sampling_rate
            assert song.path
            assert song.path.endswith(f"{song.track:02d} {song.title}.{song.suffix}")

        single = await sonic.get_album(morning.id)
        (only,) = single.song or []
        assert only.id == f"tr-{library.tracks['morning']}"
        assert only.parent == morning.id
        # Vorbis plays everywhere but Safari: plyr streams an MP3 made of it.
        assert (only.suffix, only.transcoded_suffix) == ("ogg", "mp3")
        assert only.transcoded_content_type == "audio/mpeg"

        kept = (await sonic.get_album(b_sides.id)).song or []
        assert [(s.id, s.track) for s in kept] == [(f"tr-{extra.kept}", 1)]
        assert kept[0].display_artist
        assert "feat. " in kept[0].display_artist
        assert next(a.id for a in kept[0].artists or []) == f"ar-{alice.did}"
        assert len(kept[0].artists or []) == 2

    async with raw(plyr) as http:
        key = {"apiKey": alice_key}
        answer = await both(http, "getArtist", {**key, "id": f"ar-{alice.did}"})
        assert answer["artist"]["albumCount"] == len(answer["artist"]["album"])
        await both(http, "getAlbum", {**key, "id": night.id})
        await both(http, "getAlbum", {**key, "id": morning.id})


async def test_starred_follows_likes_made_on_plyr(
    plyr: PlyrServer, library: Library, alice: SignedIn, alice_password: str
) -> None:
    second = library.tracks["second song"]
    me = {"u": "alice.test", "p": alice_password}
    async with alice.client(plyr) as web, raw(plyr) as http:
        before = await both(http, "getSong", {**me, "id": f"tr-{second}"})
        assert "starred" not in before["song"]
        assert (await web.post(f"/api/tracks/{second}/like")).status_code == 200
        try:
            song = (await both(http, "getSong", {**me, "id": f"tr-{second}"}))["song"]
            assert song["starred"].endswith("Z")
            album = (await both(http, "getAlbum", {**me, "id": song["albumId"]}))["album"]
            starred = [s["title"] for s in album["song"] if "starred" in s]
            assert starred == ["second song"]
        finally:
            assert (await web.delete(f"/api/tracks/{second}/like")).status_code == 200
        after = await both(http, "getSong", {**me, "id": f"tr-{second}"})
        assert "starred" not in after["song"]


async def test_music_directories(
    plyr: PlyrServer, library: Library, alice: SignedIn, alice_password: str, extra: Extra
) -> None:
    async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
        top = await sonic.get_music_directory(f"ar-{alice.did}")
        assert top.name == "alice.test"
        dirs = {child.title: child for child in top.child or []}
        assert all(child.is_dir for child in dirs.values())
        assert {library.album, "morning", "b-sides", "liner"} <= set(dirs)
        night = dirs[library.album]
        assert night.parent == f"ar-{alice.did}"
        assert night.cover_art == night.id
        songs = await sonic.get_music_directory(night.id)
        assert songs.parent == f"ar-{alice.did}"
        assert songs.name == library.album
        assert [c.title for c in songs.child or []] == list(library.album_titles)
        assert not any(c.is_dir for c in songs.child or [])
        single = await sonic.get_music_directory(dirs["morning"].id)
        assert [c.title for c in single.child or []] == ["morning"]
    async with raw(plyr) as http:
        me = {"u": "alice.test", "p": alice_password}
        await both(http, "getMusicDirectory", {**me, "id": f"ar-{alice.did}"})
        await both(http, "getMusicDirectory", {**me, "id": night.id})


async def test_genres_count_songs_and_albums(
    plyr: PlyrServer, library: Library, alice_key: str, extra: Extra
) -> None:
    async with opensonic(plyr, api_key=alice_key) as sonic:
        found = {genre.value: genre for genre in await sonic.get_genres()}
    assert (found[OWN_TAG].song_count, found[OWN_TAG].album_count) == (2, 2)  # kept, liner
    assert (found["night"].song_count, found["night"].album_count) == (3, 1)
    assert (found["folk"].song_count, found["folk"].album_count) == (1, 1)
    assert found["ambient"].song_count >= 4
    assert found["ambient"].album_count >= 2
    assert HIDDEN_TAG not in found
    async with raw(plyr) as http:
        answer = await both(http, "getGenres", {"apiKey": alice_key})
    counts = [genre["songCount"] for genre in answer["genres"]["genre"]]
    assert counts == sorted(counts, reverse=True)


async def test_artist_and_album_info(
    plyr: PlyrServer,
    library: Library,
    alice: SignedIn,
    bob: SignedIn,
    alice_password: str,
    extra: Extra,
) -> None:
    async with alice.client(plyr) as web:
        response = await web.put("/api/profile", json={"bio": "night music, mostly"})
        assert response.status_code == 200, response.text
    try:
        async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
            info = await sonic.get_artist_info2(f"ar-{alice.did}")
            assert info.biography == "night music, mostly"
            similar = [a.id for a in info.similar_artist or []]
            assert f"ar-{bob.did}" in similar  # both tag ambient
            assert f"ar-{extra.carol_did}" not in similar  # so does carol, hidden
            by_song = await sonic.get_artist_info2(f"tr-{library.tracks['morning']}")
            assert by_song.biography == info.biography
            night = (await sonic.get_song(f"tr-{library.tracks['first song']}")).album_id
            assert night is not None
            album_info = await sonic.get_album_info2(night)
            first = library.tracks["first song"]
            assert album_info.large_image_url == f"{plyr.url}/images/{first}"
            assert album_info.small_image_url == f"{plyr.url}/images/{first}/thumb"
            notes = await sonic.get_album_info2(f"si-{extra.liner}")
            assert notes.notes == "recorded in one take"
            assert notes.large_image_url is None
        async with raw(plyr) as http:
            me = {"u": "alice.test", "p": alice_password}
            await both(http, "getArtistInfo2", {**me, "id": f"ar-{alice.did}", "count": "5"})
            v1 = await both(http, "getArtistInfo", {**me, "id": f"ar-{alice.did}"})
            assert v1["artistInfo"]["biography"] == "night music, mostly"
            none = await both(http, "getArtistInfo2", {**me, "id": f"ar-{alice.did}", "count": "0"})
            assert (
                "similarArtist" not in none["artistInfo2"]
                or not none["artistInfo2"]["similarArtist"]
            )
            await both(http, "getAlbumInfo2", {**me, "id": night})
            await both(http, "getAlbumInfo", {**me, "id": f"tr-{extra.liner}"})
            image = await http.get(f"/images/{first}")
            assert image.status_code == 200
            assert image.headers["content-type"].startswith("image/")
    finally:
        async with alice.client(plyr) as web:
            assert (await web.put("/api/profile", json={"bio": ""})).status_code == 200


async def test_taken_down_and_hidden_are_nowhere(
    plyr: PlyrServer, library: Library, alice: SignedIn, alice_password: str, extra: Extra
) -> None:
    me = {"u": "alice.test", "p": alice_password}
    gone, hidden, carol = f"tr-{extra.gone}", f"tr-{extra.hidden}", f"ar-{extra.carol_did}"
    async with raw(plyr) as http:
        for method, asked in (
            ("getSong", gone),
            ("getSong", hidden),
            ("getAlbum", f"si-{extra.hidden}"),
            ("getArtist", carol),
            ("getMusicDirectory", carol),
            ("getMusicDirectory", f"si-{extra.hidden}"),
            ("getArtistInfo2", carol),
            ("getArtistInfo2", hidden),
            ("getAlbumInfo2", gone),
        ):
            assert await failure(http, method, {**me, "id": asked}) == 70, (method, asked)
        seen = ""
        for method, params in (
            ("getArtists", {}),
            ("getIndexes", {}),
            ("getGenres", {}),
            ("getArtist", {"id": f"ar-{alice.did}"}),
            ("getMusicDirectory", {"id": f"ar-{alice.did}"}),
        ):
            seen += (await call_text(http, method, {**me, **params})) + "\n"
        b_sides = re.search(r'id="(al-[0-9]+)"[^>]*name="b-sides"', seen)
        assert b_sides is not None
        seen += await call_text(http, "getAlbum", {**me, "id": b_sides[1]})
        seen += await call_text(http, "getMusicDirectory", {**me, "id": b_sides[1]})
    for absent in (gone, hidden, carol, f"si-{extra.hidden}", "gone song", HIDDEN_TAG):
        assert absent not in seen, absent
    assert f"tr-{extra.kept}" in seen


async def test_missing_and_bad_ids(
    plyr: PlyrServer, library: Library, alice: SignedIn, alice_key: str
) -> None:
    key = {"apiKey": alice_key}
    album_methods = ("getAlbum", "getAlbumInfo2", "getAlbumInfo", "getMusicDirectory")
    async with raw(plyr) as http:
        for method in (
            "getArtist",
            "getSong",
            "getArtistInfo",
            "getArtistInfo2",
            *album_methods,
        ):
            assert await failure(http, method, key) == 10, method
            assert await failure(http, method, {**key, "id": ""}) == 10, method
            for bad in ("nonsense", "tr-", "tr-abc", "al-0", "al-99999999", "pl-1", "zz-1"):
                assert await failure(http, method, {**key, "id": bad}) == 70, (method, bad)
        song = f"tr-{library.tracks['morning']}"
        assert await failure(http, "getAlbum", {**key, "id": song}) == 70  # not an album
        assert (
            await failure(http, "getSong", {**key, "id": f"si-{library.tracks['morning']}"}) == 70
        )
        assert await failure(http, "getArtist", {**key, "id": "ar-did:plc:nobodyhere"}) == 70
        assert await failure(http, "getArtist", {**key, "id": "ar-did:plc:"}) == 70
    async with opensonic(plyr, api_key=alice_key) as sonic:
        with pytest.raises(errors.DataNotFoundError):
            await sonic.get_song("tr-99999999")
