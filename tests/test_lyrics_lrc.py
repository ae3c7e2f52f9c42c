"""LRC read in one place (`plyr.tracks.lrc`) and the lyrics an artist enters or another
client's record carries (`plyr.tracks.lyrics`): times, several per line, the offset tag,
metadata left out, clear errors; the record's `lyrics` in plyr's lexicon."""

from __future__ import annotations

import pytest

from plyr.atproto.lexicon import LexiconValidationError, load_lexicons
from plyr.errors import ServiceError
from plyr.tracks import lyrics
from plyr.tracks.lrc import LrcError, TimedLine, parse

SONG = """[ti:harbour lights]
[ar:alice]
[by:someone's editor]
[length: 03:10]

[00:01.00][00:09.5]the tide comes in
[00:04.25]<00:04.25>and <00:05.00>goes out
[1:02.123]late line
[01:03]
"""


def test_times_several_per_line_and_metadata() -> None:
    assert parse(SONG) == [
        TimedLine(1000, "the tide comes in"),
        TimedLine(4250, "and goes out"),
        TimedLine(9500, "the tide comes in"),
        TimedLine(62123, "late line"),
        TimedLine(63000, ""),  # an empty timed line: the music goes on alone
    ]


def test_offset_moves_every_line() -> None:
    assert [line.start_ms for line in parse("[offset:+500]\n[00:02.00]a\n[00:00.20]b")] == [0, 1500]
    assert [line.start_ms for line in parse("[offset:-250]\n[00:02.00]a")] == [2250]
    with pytest.raises(LrcError, match="line 1: the offset"):
        parse("[offset:soon]\n[00:01.00]a")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[00:01.00]fine\njust words", "line 2 has no time"),
        ("[ar:alice]\n[ti:no lines]", "no timed line"),
        ("", "no timed line"),
        ("[00:61.00]bad seconds", "line 1 has no time"),
        ("[verse]\n[00:01.00]a", "line 1 has no time"),
    ],
)
def test_not_lrc(text: str, message: str) -> None:
    with pytest.raises(LrcError, match=message):
        parse(text)


def test_what_an_artist_enters() -> None:
    assert lyrics.checked("  words\r\nmore  ", None, "en") == {"plain": "words\nmore", "lang": "en"}
    assert lyrics.checked("", "  ", "en") is None  # no lyrics: no language either
    synced = "[00:01.00]one"
    assert lyrics.checked(None, synced, "pt-BR") == {"synced": synced, "lang": "pt-BR"}
    with pytest.raises(ServiceError) as refused:
        lyrics.checked("fine", "[00:01.00]one\ntwo", None)
    assert refused.value.status == 422
    assert refused.value.code == "invalid_lyrics"
    assert "line 2 has no time" in refused.value.message
    assert refused.value.details == [{"field": "synced_lyrics", "message": refused.value.message}]
    for bad in ("english!", "e"):
        with pytest.raises(ServiceError, match="not a language tag"):
            lyrics.checked("words", None, bad)
    with pytest.raises(ServiceError, match="longer than 10000"):
        lyrics.checked("x" * 10_001, None, None)
    with pytest.raises(ServiceError, match="NUL"):
        lyrics.checked("a\x00b", None, None)


def test_what_a_record_carries() -> None:
    assert lyrics.from_record({"plain": "hi", "synced": "not lrc", "lang": "en"}) == {
        "plain": "hi",
        "lang": "en",
    }
    assert lyrics.from_record({"synced": "no times"}) is None
    assert lyrics.from_record("lyrics") is None
    found = lyrics.lyrics_in({"plain": "a\n\nb", "synced": "[00:02.00]b\n[00:01.00]a"})
    assert [(f.synced, f.language, f.text) for f in found] == [
        (False, "und", "a\n\nb"),
        (True, "und", "a\nb"),
    ]
    assert [line.start_ms for line in found[1].lines] == [1000, 2000]


def test_the_lexicon_takes_lyrics_and_records_without_them() -> None:
    lexicons = load_lexicons("fm.plyr")
    base = {
        "$type": "fm.plyr.track",
        "title": "t",
        "artist": "a",
        "fileType": "mp3",
        "createdAt": "2026-01-01T00:00:00Z",
        "audioUrl": "https://example.com/a.mp3",
    }
    lexicons.validate_record("fm.plyr.track", base)
    words = {"plain": "hi", "synced": "[00:01.00]hi", "lang": "en"}
    lexicons.validate_record("fm.plyr.track", {**base, "lyrics": words})
    for bad in ({"lang": "not a tag!"}, {"plain": "x" * 10_001}, {"synced": 5}):
        with pytest.raises(LexiconValidationError):
            lexicons.validate_record("fm.plyr.track", {**base, "lyrics": bad})
