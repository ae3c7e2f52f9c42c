"""The ids plyr hands Subsonic players, in one place: a prefix says what an id names, the
rest is plyr's own key, so any id a player sends back can be read without a lookup table.

| id | names |
|---|---|
| `tr-<track id>` | a song (a track) |
| `al-<list id>` | an album (an album list of an artist) |
| `si-<track id>` | a single: a track in no album is an album of its own, named after it |
| `ar-<did>` | an artist (a DID never changes; a handle may) |
| `pl-<list id>` | a playlist |

A cover-art id (`coverArt`) is the id of the thing whose picture it is (a song, an album,
a single, an artist, a playlist): `getCoverArt` takes any of them. A directory id of
`getMusicDirectory` is an artist's (its albums) or an album's or a single's (its songs).
Ids are opaque to players: these prefixes may grow, never change meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from plyr.subsonic.errors import Code, SubsonicError

Kind = Literal["tr", "al", "si", "ar", "pl"]
KINDS: tuple[Kind, ...] = ("tr", "al", "si", "ar", "pl")
_INTEGER = re.compile(r"[1-9][0-9]{0,17}")  # ASCII digits, no sign, fits a BIGINT
_DID = re.compile(r"did:[a-z]+:[A-Za-z0-9._:%-]{1,2000}")
WHAT = {"tr": "song", "al": "album", "si": "album", "ar": "artist", "pl": "playlist"}


@dataclass(frozen=True, slots=True)
class SubsonicId:
    kind: Kind
    key: str  # the track or list id as digits, or the artist's DID

    @property
    def number(self) -> int:
        """The track or list id (for every kind but `ar`)."""
        if self.kind == "ar":
            raise ValueError("an artist id is a DID, not a number")
        return int(self.key)

    def __str__(self) -> str:
        return f"{self.kind}-{self.key}"


def song_id(track_id: int) -> str:
    return f"tr-{track_id}"


def album_id(list_id: int) -> str:
    return f"al-{list_id}"


def single_id(track_id: int) -> str:
    return f"si-{track_id}"


def artist_id(did: str) -> str:
    return f"ar-{did}"


def playlist_id(list_id: int) -> str:
    return f"pl-{list_id}"


def parse(value: str, *allowed: Kind) -> SubsonicId:
    """Read an id a player sent; `allowed` are the kinds the parameter may name (all when
    none are given). Anything else is error 70, "not found", as for an id that names
    nothing: a player cannot tell a stale id from a malformed one, and need not."""
    kind, _, key = value.strip().partition("-")
    kinds = allowed or KINDS
    if kind not in kinds:
        raise SubsonicError(Code.NOT_FOUND, f"{_what(kinds)} {value[:80]!r} was not found")
    pattern = _DID if kind == "ar" else _INTEGER
    if pattern.fullmatch(key) is None:
        raise SubsonicError(Code.NOT_FOUND, f"{WHAT[kind]} {value[:80]!r} was not found")
    return SubsonicId(kind, key)


def _what(kinds: tuple[Kind, ...]) -> str:
    names = sorted({WHAT[k] for k in kinds})
    return " or ".join(names)
