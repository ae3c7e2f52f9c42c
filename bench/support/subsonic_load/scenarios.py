"""The paths measured, each a name and a request maker (drawing its inputs from a seeded
random source): Subsonic's getAlbumList2 of several types, the whole-library sync
(`search3` with an empty query, deep offsets) and `stream`, each beside what plyr's own web
player asks for the same thing (`/api/tracks`, `/audio/{id}`)."""

from __future__ import annotations

import hashlib
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from support.subsonic_load.setup import Setup

CHUNK = 64 * 1024 - 1  # a player's Range request: bytes=0-65535
PAGES = 25  # album lists: one of the first 25 pages of 20, as players page
SYNC_PAGE = 500  # search3 "": what Symfonium asks per page


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Scenario:
    name: str
    make: Callable[[random.Random], Request]


def _login(setup: Setup) -> dict[str, str]:
    """Token auth, as players sign every request: md5(password + salt), a fresh salt."""
    salt = secrets.token_hex(6)
    token = hashlib.md5((setup.password + salt).encode()).hexdigest()  # noqa: S324 - the protocol's
    return {"u": setup.username, "t": token, "s": salt, "v": "1.16.1", "c": "bench", "f": "json"}


def _rest(setup: Setup, method: str, **params: str | int) -> str:
    return f"/rest/{method}?" + urlencode({**_login(setup), **params})


def scenarios(setup: Setup, tracks: int) -> list[Scenario]:
    def album_list(kind: str) -> Callable[[random.Random], Request]:
        def make(rng: random.Random) -> Request:
            offset = 0 if kind == "random" else 20 * rng.randrange(PAGES)
            return Request(_rest(setup, "getAlbumList2", type=kind, size=20, offset=offset), {})

        return make

    def sync(rng: random.Random) -> Request:
        offset = SYNC_PAGE * rng.randrange(max(1, tracks // SYNC_PAGE))
        params: dict[str, str | int] = {"query": '""', "songCount": SYNC_PAGE}
        empty = {"artistCount": 0, "albumCount": 0}
        return Request(_rest(setup, "search3", songOffset=offset, **params, **empty), {})

    def stream(rng: random.Random) -> Request:
        track = rng.choice(setup.track_ids)
        return Request(_rest(setup, "stream", id=f"tr-{track}"), {"Range": f"bytes=0-{CHUNK}"})

    def audio(rng: random.Random) -> Request:
        track = rng.choice(setup.track_ids)
        return Request(f"/audio/{track}", {"Range": f"bytes=0-{CHUNK}"})

    return [
        Scenario("getAlbumList2 newest", album_list("newest")),
        Scenario("getAlbumList2 alphabeticalByName", album_list("alphabeticalByName")),
        Scenario("getAlbumList2 frequent", album_list("frequent")),
        Scenario("getAlbumList2 random", album_list("random")),
        Scenario("web /api/tracks?limit=20", lambda rng: Request("/api/tracks?limit=20", {})),
        Scenario(f"search3 '\"\"' songCount={SYNC_PAGE}, any offset", sync),
        Scenario("stream (64 KiB range)", stream),
        Scenario("web /audio/{id} (64 KiB range)", audio),
    ]
