"""Playlists over Subsonic: getPlaylists, getPlaylist, createPlaylist (new, or 1.16.1's
replace by playlistId), updatePlaylist, deletePlaylist. Each change is an `fm.plyr.list`
record in the owner's PDS (read back from the PDS as any client would) and shows in plyr's
web API; someone else's playlist is 50 to change; bad ids 70; taken-down tracks are not
songs of a playlist (and survive a replace); a PDS that is down delays the record and loses
nothing. Both auth modes, py-opensonic and raw calls, every XML answer schema-checked."""

from __future__ import annotations

from typing import Any

import pytest
from libopensonic import errors

from plyr.atproto.devnet import Network
from plyr.moderation.takedown import restore_track, take_down_track
from tests.subsonic.actions import song, web_track, xml_pairs
from tests.subsonic.conftest import Library, opensonic, raw
from tests.subsonic.schema import NS, child, error_code, json_call
from tests.support.audio import make_audio
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import (
    SignedIn,
    point_sessions_at,
    public_record,
    upload_published,
)
from tests.support.social_records import gone, items_of, record_when, ref


def _entries(root: Any) -> list[str]:
    return [e.attrib["id"] for e in child(root, "playlist").findall(f"{{{NS}}}entry")]


async def _web_list(plyr: PlyrServer, user: SignedIn, list_id: int) -> dict[str, Any]:
    async with user.client(plyr) as http:
        response = await http.get(f"/api/lists/{list_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _refs(plyr: PlyrServer, track_ids: list[int]) -> list[dict[str, str]]:
    return [ref(await web_track(plyr, track_id)) for track_id in track_ids]


def _list_id(playlist_id: str) -> int:
    assert playlist_id.startswith("pl-")
    return int(playlist_id.removeprefix("pl-"))


async def test_a_playlist_from_creation_to_deletion(
    plyr: PlyrServer,
    alice: SignedIn,
    alice_key: str,
    alice_password: str,
    library: Library,
    atproto_net: Network,
) -> None:
    a, b, c = (library.tracks[title] for title in library.album_titles)
    bobs = library.tracks[library.bob_track]
    async with opensonic(plyr, api_key=alice_key) as sonic:
        assert await sonic.create_playlist(
            name="late night", song_ids=[song(a), song(bobs), song(b)]
        )
        (summary,) = [p for p in await sonic.get_playlists() if p.name == "late night"]
        full = await sonic.get_playlist(summary.id)
    list_id = _list_id(summary.id)
    assert [e.id for e in full.entry or []] == [song(a), song(bobs), song(b)]
    assert (summary.song_count, summary.owner, summary.public) == (3, "alice.test", True)
    assert summary.duration == sum(e.duration or 0 for e in full.entry or []) > 0
    assert summary.created
    assert summary.changed
    # No cover of its own: its first song with artwork gives it one (getCoverArt's rule).
    assert summary.cover_art == full.cover_art == summary.id

    # The record in Alice's PDS, and plyr's web API, say the same.
    web = await _web_list(plyr, alice, list_id)
    assert [e["track"]["id"] for e in web["entries"]] == [a, bobs, b]
    refs_made = await _refs(plyr, [a, bobs, b])
    record = await record_when(plyr, atproto_net, web["uri"], lambda r: items_of(r) == refs_made)
    assert record["value"]["name"] == "late night"
    assert record["value"]["listType"] == "playlist"
    assert web["uri"].startswith(f"at://{alice.did}/{plyr.runtime.lexicons.collection('list')}/")

    async with raw(plyr) as http:
        root = await xml_pairs(http, "getPlaylists", [("apiKey", alice_key)])
        ids = [p.attrib["id"] for p in child(root, "playlists").findall(f"{{{NS}}}playlist")]
        assert summary.id in ids
        root = await xml_pairs(http, "getPlaylist", [("apiKey", alice_key), ("id", summary.id)])
        assert _entries(root) == [song(a), song(bobs), song(b)]
        assert child(root, "playlist").attrib["songCount"] == "3"
        _, answer = await json_call(http, "getPlaylist", {"apiKey": alice_key, "id": summary.id})
        assert [e["id"] for e in answer["playlist"]["entry"]] == [song(a), song(bobs), song(b)]
        assert answer["playlist"]["public"] is True

    # Update with the app password: rename, drop the first, add one.
    async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
        assert await sonic.update_playlist(
            summary.id, name="later night", song_ids_to_add=[song(c)], song_indices_to_remove=[0]
        )
        full = await sonic.get_playlist(summary.id)
    assert full.name == "later night"
    assert [e.id for e in full.entry or []] == [song(bobs), song(b), song(c)]
    refs_now = await _refs(plyr, [bobs, b, c])
    await record_when(
        plyr,
        atproto_net,
        web["uri"],
        lambda r: items_of(r) == refs_now and r["value"]["name"] == "later night",
    )

    # 1.16.1: createPlaylist with playlistId replaces the songs, and answers the playlist.
    async with raw(plyr) as http:
        root = await xml_pairs(
            http,
            "createPlaylist",
            [
                ("apiKey", alice_key),
                ("playlistId", summary.id),
                ("songId", song(c)),
                ("songId", song(a)),
            ],
        )
        assert error_code(root) is None
        assert _entries(root) == [song(c), song(a)]
        assert child(root, "playlist").attrib["name"] == "later night"
    refs_now = await _refs(plyr, [c, a])
    await record_when(plyr, atproto_net, web["uri"], lambda r: items_of(r) == refs_now)
    assert [e["track"]["id"] for e in (await _web_list(plyr, alice, list_id))["entries"]] == [c, a]

    async with opensonic(plyr, api_key=alice_key) as sonic:
        assert await sonic.delete_playlist(summary.id)
        assert summary.id not in [p.id for p in await sonic.get_playlists()]
        with pytest.raises(errors.DataNotFoundError):
            await sonic.get_playlist(summary.id)
    await gone(atproto_net, web["uri"])
    async with alice.client(plyr) as http:
        assert (await http.get(f"/api/lists/{list_id}")).status_code == 404


async def test_creating_answers_the_playlist(
    plyr: PlyrServer, alice_password: str, library: Library
) -> None:
    first = library.tracks["first song"]
    credentials = [("u", "alice.test"), ("p", alice_password)]
    async with raw(plyr) as http:
        root = await xml_pairs(
            http,
            "createPlaylist",
            [*credentials, ("name", "  one  song "), ("songId", song(first))],
        )
        playlist = child(root, "playlist")
        assert playlist.attrib["name"] == "one song"
        assert playlist.attrib["coverArt"] == playlist.attrib["id"]  # the song's artwork
        assert _entries(root) == [song(first)]
        root = await xml_pairs(http, "createPlaylist", [*credentials, ("name", "empty")])
        empty = child(root, "playlist")
        assert (empty.attrib["songCount"], empty.attrib["duration"]) == ("0", "0")
        assert _entries(root) == []
        assert "coverArt" not in empty.attrib
        for made in (playlist, empty):
            root = await xml_pairs(
                http, "deletePlaylist", [*credentials, ("id", made.attrib["id"])]
            )
            assert error_code(root) is None
        # Neither a name nor a playlist: 10.
        root = await xml_pairs(http, "createPlaylist", [*credentials, ("songId", song(first))])
        assert error_code(root) == 10


async def _playlist_ids(plyr: PlyrServer, key: str) -> list[str]:
    async with opensonic(plyr, api_key=key) as sonic:
        return [p.id for p in await sonic.get_playlists()]


async def test_refused_changes_change_nothing(
    plyr: PlyrServer, alice: SignedIn, alice_key: str, alice_password: str, library: Library
) -> None:
    a, b = library.tracks["first song"], library.tracks["second song"]
    credentials = [("u", "alice.test"), ("p", alice_password)]
    before = await _playlist_ids(plyr, alice_key)
    async with raw(plyr) as http:
        for pairs, code in (
            ([("name", "x"), ("songId", "nonsense")], 70),
            ([("name", "x"), ("songId", song(a)), ("songId", "tr-999999999")], 70),
            ([("name", "x"), ("songId", "al-1")], 70),
            ([("name", "   ")], 10),
            ([("name", "x" * 70)], 0),  # past the lexicon's 64 graphemes
        ):
            root = await xml_pairs(http, "createPlaylist", [*credentials, *pairs])
            assert error_code(root) == code, pairs
    assert await _playlist_ids(plyr, alice_key) == before

    async with opensonic(plyr, api_key=alice_key) as sonic:
        assert await sonic.create_playlist(name="kept as is", song_ids=[song(a), song(b)])
        (made,) = [p for p in await sonic.get_playlists() if p.name == "kept as is"]
    async with raw(plyr) as http:
        for pairs, code in (
            ([("public", "false")], 0),
            ([("comment", "a note"), ("name", "renamed")], 0),
            ([("songIndexToRemove", "2")], 70),  # two songs: positions 0 and 1
            ([("songIndexToRemove", "-1")], 0),
            ([("songIdToAdd", "tr-999999999"), ("name", "renamed")], 70),
            ([("songIdToAdd", "nonsense")], 70),
            ([("public", "maybe")], 0),
        ):
            root = await xml_pairs(
                http, "updatePlaylist", [*credentials, ("playlistId", made.id), *pairs]
            )
            assert error_code(root) == code, pairs
        # What plyr holds anyway: public, an empty comment, the name it has.
        fine = [("public", "true"), ("comment", ""), ("playlistId", made.id)]
        assert error_code(await xml_pairs(http, "updatePlaylist", [*credentials, *fine])) is None
        root = await xml_pairs(http, "getPlaylist", [*credentials, ("id", made.id)])
        assert child(root, "playlist").attrib["name"] == "kept as is"
        assert _entries(root) == [song(a), song(b)]
        assert "comment" not in child(root, "playlist").attrib
        root = await xml_pairs(http, "deletePlaylist", [*credentials, ("id", made.id)])
        assert error_code(root) is None


async def test_bad_ids_are_70(
    plyr: PlyrServer, alice: SignedIn, alice_key: str, library: Library
) -> None:
    async with alice.client(plyr) as http:
        albums = (await http.get("/api/lists", params={"type": "album"})).json()
    album_list = next(a["id"] for a in albums if a["name"] == library.album)
    async with raw(plyr) as http:
        for method, pairs in (
            ("getPlaylist", [("id", "nonsense")]),
            ("getPlaylist", [("id", "pl-999999999")]),
            ("getPlaylist", [("id", f"pl-{album_list}")]),  # an album is no playlist
            ("getPlaylist", [("id", f"al-{album_list}")]),
            ("deletePlaylist", [("id", "pl-999999999")]),
            ("deletePlaylist", [("id", f"pl-{album_list}")]),
            ("updatePlaylist", [("playlistId", "pl-x")]),
            ("createPlaylist", [("playlistId", "pl-999999999"), ("songId", song(1))]),
        ):
            root = await xml_pairs(http, method, [("apiKey", alice_key), *pairs])
            assert error_code(root) == 70, (method, pairs)
        root = await xml_pairs(http, "getPlaylist", [("apiKey", alice_key)])
        assert error_code(root) == 10
    async with alice.client(plyr) as http:  # the album is still there, whole
        album = (await http.get(f"/api/lists/{album_list}")).json()
    assert len(album["entries"]) == len(library.album_titles)


async def test_someone_elses_playlist_is_read_only(
    plyr: PlyrServer, alice_key: str, bob: SignedIn, library: Library, atproto_net: Network
) -> None:
    bobs, first = library.tracks[library.bob_track], library.tracks["first song"]
    async with bob.client(plyr) as http:
        made = await http.post(
            "/api/lists", json={"type": "playlist", "name": "bob's mix", "track_ids": [bobs]}
        )
        assert made.status_code == 201, made.text
    mix = made.json()
    playlist_id = f"pl-{mix['id']}"
    try:
        async with raw(plyr) as http:
            for method, pairs in (
                ("updatePlaylist", [("playlistId", playlist_id), ("name", "mine now")]),
                ("updatePlaylist", [("playlistId", playlist_id), ("songIdToAdd", song(first))]),
                ("createPlaylist", [("playlistId", playlist_id), ("songId", song(first))]),
                ("deletePlaylist", [("id", playlist_id)]),
            ):
                root = await xml_pairs(http, method, [("apiKey", alice_key), *pairs])
                assert error_code(root) == 50, method
            # Reading it is fine: playlists are public, on plyr and in Bob's PDS.
            root = await xml_pairs(
                http, "getPlaylist", [("apiKey", alice_key), ("id", playlist_id)]
            )
            assert child(root, "playlist").attrib["owner"] == "bob.test"
            assert _entries(root) == [song(bobs)]
            root = await xml_pairs(
                http, "getPlaylists", [("apiKey", alice_key), ("username", "bob.test")]
            )
            listed = child(root, "playlists").findall(f"{{{NS}}}playlist")
            assert [(p.attrib["id"], p.attrib["owner"]) for p in listed] == [
                (playlist_id, "bob.test")
            ]
            root = await xml_pairs(
                http, "getPlaylists", [("apiKey", alice_key), ("username", "nobody.test")]
            )
            assert error_code(root) == 70
        async with opensonic(plyr, api_key=alice_key) as sonic:
            with pytest.raises(errors.AuthError):
                await sonic.delete_playlist(playlist_id)
        after = await _web_list(plyr, bob, mix["id"])
        assert (after["name"], [e["track"]["id"] for e in after["entries"]]) == (
            "bob's mix",
            [bobs],
        )
        record = await record_when(plyr, atproto_net, mix["uri"])
        assert record["value"]["name"] == "bob's mix"
    finally:
        async with bob.client(plyr) as http:
            await http.delete(f"/api/lists/{mix['id']}")


@pytest.fixture(scope="module")
async def fading(
    plyr: PlyrServer, alice: SignedIn, tmp_path_factory: pytest.TempPathFactory
) -> int:
    """A track of Alice's own for this module to take down (the library's stay listed); the
    test that takes it down restores it."""
    source = make_audio(tmp_path_factory.mktemp("fading") / "fading.mp3", "mp3", 2.0, 480)
    async with alice.client(plyr) as http:
        track = await upload_published(http, source, title="fading")
    return int(track["id"])


async def test_taken_down_tracks_are_no_songs_and_survive_a_replace(
    plyr: PlyrServer,
    alice: SignedIn,
    alice_key: str,
    library: Library,
    fading: int,
    atproto_net: Network,
) -> None:
    a, b = library.tracks["first song"], library.tracks["second song"]
    async with opensonic(plyr, api_key=alice_key) as sonic:
        assert await sonic.create_playlist(
            name="with a gap", song_ids=[song(a), song(fading), song(b)]
        )
        (made,) = [p for p in await sonic.get_playlists() if p.name == "with a gap"]
        await take_down_track(plyr.runtime, fading, reason="a test takedown", actor="tests")
        try:
            full = await sonic.get_playlist(made.id)
            assert [e.id for e in full.entry or []] == [song(a), song(b)]
            (summary,) = [p for p in await sonic.get_playlists() if p.id == made.id]
            assert (summary.song_count, full.song_count) == (2, 2)
            # Index 1 is the second song a player is shown: b, not the taken-down track.
            assert await sonic.update_playlist(made.id, song_indices_to_remove=[1])
            assert [e.id for e in (await sonic.get_playlist(made.id)).entry or []] == [song(a)]
            # Replacing the songs keeps what the player was never shown.
            assert await sonic.create_playlist(playlist_id=made.id, song_ids=[song(b)])
            assert [e.id for e in (await sonic.get_playlist(made.id)).entry or []] == [song(b)]
            web = await _web_list(plyr, alice, _list_id(made.id))
            assert [e["track"]["id"] for e in web["entries"]] == [b, fading]
        finally:
            await restore_track(plyr.runtime, fading, actor="tests")
        full = await sonic.get_playlist(made.id)
        assert [e.id for e in full.entry or []] == [song(b), song(fading)]
        refs_now = await _refs(plyr, [b, fading])
        await record_when(plyr, atproto_net, web["uri"], lambda r: items_of(r) == refs_now)
        assert await sonic.delete_playlist(made.id)


async def test_a_pds_that_is_down_delays_the_playlist_and_loses_nothing(
    plyr: PlyrServer, alice: SignedIn, alice_password: str, library: Library, atproto_net: Network
) -> None:
    track_id = library.tracks["morning"]
    await point_sessions_at(plyr, alice.did, "http://127.0.0.1:9")  # nothing listens there
    try:
        async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
            assert await sonic.create_playlist(name="offline", song_ids=[song(track_id)])
            (made,) = [p for p in await sonic.get_playlists() if p.name == "offline"]
        web = await _web_list(plyr, alice, _list_id(made.id))
        assert web["record_state"] == "pending"
        assert await public_record(atproto_net, web["uri"]) is None
    finally:
        await point_sessions_at(plyr, alice.did, atproto_net.pds_url)
    refs_now = await _refs(plyr, [track_id])
    record = await record_when(plyr, atproto_net, web["uri"], lambda r: items_of(r) == refs_now)
    assert record["value"]["name"] == "offline"
    async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
        assert await sonic.delete_playlist(made.id)
    await gone(atproto_net, web["uri"])
