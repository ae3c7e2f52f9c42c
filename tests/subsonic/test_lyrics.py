"""getLyrics and getLyricsBySongId (OpenSubsonic `songLyrics` v1): plyr holds no lyrics yet
(issue 20), so both answer empty, schema-valid, and readable by py-opensonic; the one place
that reads a track's lyrics (`plyr.tracks.lyrics.lyrics_of`) is what both answer from, so
lyrics put there (here by the test, in the server's own process) come out as Subsonic's
`lyrics` text and as OpenSubsonic's structured, synced or unsynced lyrics."""

from __future__ import annotations

import pytest

from plyr.db.models import Track
from plyr.tracks import lyrics
from tests.subsonic.actions import song, web_track, xml_pairs
from tests.subsonic.conftest import Library, opensonic, raw
from tests.subsonic.schema import NS, child, error_code, json_call
from tests.support.plyr_server import PlyrServer


async def test_no_lyrics_yet_both_ways(
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


SYNCED = lyrics.Lyrics(
    (lyrics.LyricLine("headlights on the ridge", 0), lyrics.LyricLine("and nothing after", 2500)),
    "eng",
)
PLAIN = lyrics.Lyrics(
    (lyrics.LyricLine("headlights on the ridge"), lyrics.LyricLine("and nothing after"))
)


async def test_what_the_one_reader_gives_is_answered(
    plyr: PlyrServer,
    alice_key: str,
    library: Library,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What issue 20 fills in: the methods already turn it into both answers."""
    track_id = library.tracks["second song"]
    artist = (await web_track(plyr, track_id))["artist"]

    def published(track: Track) -> list[lyrics.Lyrics]:
        return [SYNCED, PLAIN] if track.id == track_id else []

    monkeypatch.setattr(lyrics, "lyrics_of", published)  # the server runs in this process
    async with opensonic(plyr, api_key=alice_key) as sonic:
        structured = await sonic.get_lyrics_by_song_id(song(track_id))
        text = await sonic.get_lyrics(artist=artist.upper(), title="Second Song")
    assert [(s.lang, s.synced, s.display_title) for s in structured] == [
        ("eng", True, "second song"),
        ("und", False, "second song"),
    ]
    assert [(line.start, line.value) for line in structured[0].line] == [
        (0, "headlights on the ridge"),
        (2500, "and nothing after"),
    ]
    assert [line.start for line in structured[1].line] == [None, None]
    assert (text.value, text.artist, text.title) == (
        "headlights on the ridge\nand nothing after",
        artist,
        "second song",
    )
    async with raw(plyr) as http:
        root = await xml_pairs(
            http, "getLyricsBySongId", [("apiKey", alice_key), ("id", song(track_id))]
        )
        found = child(root, "lyricsList").findall(f"{{{NS}}}structuredLyrics")
        assert [s.attrib["synced"] for s in found] == ["true", "false"]
        assert [line.get("start") for line in found[0]] == ["0", "2500"]
        assert [line.get("start") for line in found[1]] == [None, None]
        root = await xml_pairs(http, "getLyrics", [("apiKey", alice_key), ("title", "second song")])
        assert child(root, "lyrics").text == "headlights on the ridge\nand nothing after"
