"""Carol's shelf: a small catalogue of her own for the list tests, with plays and likes
made through plyr's web API, so that every album list has an order to prove. Only Carol and
anonymous listeners act on it (the package's Alice and Bob stay as the other tests expect
them); its tags are its own, so a list by them holds nothing else.

Uploaded in this order (2 s MP3s), so `newest` reads them backwards:

| track | album | tags | plays (everyone's) | Carol's plays, likes |
|---|---|---|---|---|
| zebra one | zebra crossing | shelf-x, stripes | 1 | played 1st; liked 1st |
| zebra two | zebra crossing | shelf-x | 0 | liked 2nd |
| apple one | apple orchard | shelf-x, fruit | 4 | played 2nd; liked 3rd |
| middle single | none (a single) | stripes | 2 | |
| vanishing | vanishing act | shelf-x | 5 | played last; liked last |

`vanishing` is then taken down (moderation's own function): with the most plays, the
latest play and like of Carol's, it would head `frequent`, `recent` and `starred` if it
were listed anywhere.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import httpx

from plyr.moderation.takedown import take_down_track
from tests.support.audio import make_audio
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, upload_published

UPLOADS = (
    ("zebra one", "zebra crossing", "shelf-x, stripes"),
    ("zebra two", "zebra crossing", "shelf-x"),
    ("apple one", "apple orchard", "shelf-x, fruit"),
    ("middle single", None, "stripes"),
    ("vanishing", "vanishing act", "shelf-x"),
)
ANONYMOUS_PLAYS = {"apple one": 3, "middle single": 2, "vanishing": 4}
CAROLS_PLAYS = ("zebra one", "apple one", "vanishing")
CAROLS_LIKES = ("zebra one", "zebra two", "apple one", "vanishing")


@dataclass(frozen=True)
class Shelf:
    carol: SignedIn
    password: str  # Carol's app password
    tracks: dict[str, int]  # title → track id
    albums: dict[str, str]  # album name → its Subsonic id (al-… or si-…), filled by the tests

    def song(self, title: str) -> str:
        return f"tr-{self.tracks[title]}"


async def upload_shelf(plyr: PlyrServer, carol: SignedIn, folder: Path) -> dict[str, int]:
    tracks: dict[str, int] = {}
    async with carol.client(plyr) as http:
        for number, (title, album, tags) in enumerate(UPLOADS):
            source = make_audio(folder / f"shelf-{number}.mp3", "mp3", 2.0, 300 + 70 * number)
            fields = {"title": title, "tags": tags} | ({"album": album} if album else {})
            tracks[title] = int((await upload_published(http, source, **fields))["id"])
    return tracks


async def play(plyr: PlyrServer, listener: SignedIn | None, track_ids: list[int]) -> None:
    """Count one play of each track, in this order, by `listener` (None: signed out): each
    listen starts, lasts past its threshold (30 % of 2 s), then is reported."""
    client = (
        listener.client(plyr)
        if listener is not None
        else httpx.AsyncClient(base_url=plyr.url, timeout=30)
    )
    async with client as http:
        tokens = []
        for track_id in track_ids:
            started = await http.post(f"/api/tracks/{track_id}/listens")
            assert started.status_code == 201, started.text
            tokens.append(started.json()["listen_token"])
        await asyncio.sleep(0.8)
        for token in tokens:
            counted = await http.post(
                "/api/plays", json={"listen_token": token, "listened_ms": 1500}
            )
            assert counted.status_code == 201, counted.text


async def delete_tracks(plyr: PlyrServer, owner: SignedIn, track_ids: list[int]) -> None:
    """Delete the owner's tracks and wait until they are gone (the package's plyr goes on
    to other modules as they expect it)."""
    async with owner.client(plyr) as http:
        for track_id in track_ids:
            response = await http.delete(f"/api/tracks/{track_id}")
            assert response.status_code in (202, 404), response.text
        async with asyncio.timeout(60):
            for track_id in track_ids:
                while True:
                    if (await http.get(f"/api/tracks/{track_id}")).status_code == 404:
                        break
                    await asyncio.sleep(0.1)


async def act_on_shelf(plyr: PlyrServer, carol: SignedIn, tracks: dict[str, int]) -> None:
    anonymous = [tracks[t] for t, times in ANONYMOUS_PLAYS.items() for _ in range(times)]
    await play(plyr, None, anonymous)
    for title in CAROLS_PLAYS:  # one by one: each a later play than the one before
        await play(plyr, carol, [tracks[title]])
    async with carol.client(plyr) as http:
        for title in CAROLS_LIKES:
            liked = await http.post(f"/api/tracks/{tracks[title]}/like")
            assert liked.status_code == 200, liked.text
            await asyncio.sleep(0.01)  # distinct like times
    await take_down_track(
        plyr.runtime, tracks["vanishing"], reason="a test takedown", actor="tests"
    )
