"""getLyrics and getLyricsBySongId (OpenSubsonic `songLyrics` v1): a track without lyrics
answers empty, schema-valid, and readable by py-opensonic; lyrics in a track's record
(uploaded with it, in the PDS) come out as Subsonic's `lyrics` text and as OpenSubsonic's
structured lyrics, synced and unsynced, through `plyr.tracks.lyrics.lyrics_of`."""

from __future__ import annotations

from pathlib import Path

from tests.subsonic.actions import song, web_track, xml_pairs
from tests.subsonic.conftest import Library, opensonic, raw
from tests.subsonic.schema import NS, child, error_code, json_call
from tests.support.audio import make_audio
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, upload_published


async def test_no_lyrics_both_ways(
    plyr: PlyrServer, alice_key: str, alice_password: str, library: Library
) -> None:
    track_id = library.tracks["first song"]
    artist = (await web_track(plyr, track_id))["artist"]
    async with opensonic(plyr, api_key=alice_key) as sonic:
        assert await sonic.get_lyrics_by_song_id(song(track_id)) == []
        extensions = {e.name: e.versions for e in await sonic.get_open_subsonic_extensions()}
    assert extensions["songLyrics"] == [1]
    async with opensonic(plyr, username="alice.test", password=alice_password) as sonic:
        found = await sonic.get_lyrics(artist=artist, title="first song")
    assert (found.value, found.artist, found.title) == ("", None, None)

    async with raw(plyr) as http:
        credentials = [("u", "alice.test"), ("p", alice_password)]
        root = await xml_pairs(http, "getLyricsBySongId", [*credentials, ("id", song(track_id))])
        assert len(child(root, "lyricsList")) == 0
        for pairs in ([("artist", artist), ("title", "first song")], [("title", "no such")], []):
            element = child(await xml_pairs(http, "getLyrics", [*credentials, *pairs]), "lyrics")
            assert (element.attrib, element.text or "") == ({}, "")
        _, answer = await json_call(
            http, "getLyricsBySongId", {"apiKey": alice_key, "id": song(track_id)}
        )
        assert answer["lyricsList"] == {"structuredLyrics": []}
        _, answer = await json_call(http, "getLyrics", {"apiKey": alice_key, "title": "first song"})
        assert answer["lyrics"] == {"value": ""}


async def test_bad_song_ids_are_70(plyr: PlyrServer, alice_key: str) -> None:
    async with raw(plyr) as http:
        for value in ("nonsense", "tr-999999999", "al-1", f"si-{10**9}"):
            root = await xml_pairs(
                http, "getLyricsBySongId", [("apiKey", alice_key), ("id", value)]
            )
            assert error_code(root) == 70, value
        root = await xml_pairs(http, "getLyricsBySongId", [("apiKey", alice_key)])
        assert error_code(root) == 10


PLAIN = "headlights on the ridge\nand nothing after"
SYNCED = (
    "[ti:night drives]\n[offset:+500]\n"
    "[00:00.50]headlights on the ridge\n[00:03.00]and nothing after"
)


async def test_the_records_lyrics_are_answered(
    plyr: PlyrServer,
    alice: SignedIn,
    alice_key: str,
    tmp_path: Path,
) -> None:
    """A track uploaded with plain and synced lyrics (published to the PDS): Subsonic's
    `lyrics` is the plain text, OpenSubsonic's structured lyrics are both, in the record's
    language, the synced lines at their times (the LRC's offset applied)."""
    source = make_audio(tmp_path / "words.mp3", "mp3", 3.0, 880)
    async with alice.client(plyr) as http:
        fields = {"title": "Words Song", "lyrics": PLAIN, "synced_lyrics": SYNCED}
        track = await upload_published(http, source, lyrics_lang="en", **fields)
    track_id, artist = int(track["id"]), track["artist"]
    try:
        async with opensonic(plyr, api_key=alice_key) as sonic:
            structured = await sonic.get_lyrics_by_song_id(song(track_id))
            text = await sonic.get_lyrics(artist=artist.upper(), title="words song")
        assert [(s.lang, s.synced, s.display_title) for s in structured] == [
            ("en", False, "Words Song"),
            ("en", True, "Words Song"),
        ]
        assert [line.start for line in structured[0].line] == [None, None]
        assert [(line.start, line.value) for line in structured[1].line] == [
            (0, "headlights on the ridge"),
            (2500, "and nothing after"),
        ]
        assert (text.value, text.artist, text.title) == (PLAIN, artist, "Words Song")
        async with raw(plyr) as http:
            root = await xml_pairs(
                http, "getLyricsBySongId", [("apiKey", alice_key), ("id", song(track_id))]
            )
            found = child(root, "lyricsList").findall(f"{{{NS}}}structuredLyrics")
            assert [s.attrib["synced"] for s in found] == ["false", "true"]
            assert [line.get("start") for line in found[0]] == [None, None]
            assert [line.get("start") for line in found[1]] == ["0", "2500"]
            pairs = [("apiKey", alice_key), ("title", "words song")]
            assert child(await xml_pairs(http, "getLyrics", pairs), "lyrics").text == PLAIN
    finally:
        async with alice.client(plyr) as http:  # the package's library stays as it was
            assert (await http.delete(f"/api/tracks/{track_id}")).status_code == 202
