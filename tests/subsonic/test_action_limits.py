"""What bounds a player's changes: each like counts against the user's write budget (the
web's `write:did:…` bucket), not each call; at most 500 ids a `star`; a playlist of more
songs than a list holds is refused before any work. Alice's likes are left as found."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlencode

import httpx
from sqlalchemy import delete

from plyr import ratelimit
from plyr.db.models import RateLimitHit
from plyr.social import likes
from tests.subsonic.actions import song, xml_pairs
from tests.subsonic.conftest import Library, opensonic, raw
from tests.subsonic.schema import CLIENT, checked_xml, error_code
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn


async def _post(
    http: httpx.AsyncClient, method: str, pairs: list[tuple[str, str]]
) -> httpx.Response:
    return await http.post(
        f"/rest/{method}.view",
        content=urlencode([*CLIENT.items(), *pairs]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


async def _forget(plyr: PlyrServer, bucket: str) -> None:
    async with plyr.runtime.sessions() as db:
        await db.execute(delete(RateLimitHit).where(RateLimitHit.bucket == bucket))
        await db.commit()


async def test_each_like_counts_against_the_write_budget(
    plyr: PlyrServer, alice: SignedIn, alice_key: str, library: Library
) -> None:
    did = alice.did
    ids = list(library.tracks.values())
    liked = await likes.is_liked(plyr.runtime, did, ids)
    free = [i for i in ids if i not in liked][:2]
    assert len(free) == 2
    limit = plyr.settings.rate_limit_writes_per_minute
    bucket = f"write:did:{did}"
    if time.time() % 60 > 50:  # the fill and the calls in one fixed window
        await asyncio.sleep(61 - time.time() % 60)
    try:
        await _forget(plyr, bucket)
        await ratelimit.hit(plyr.runtime, bucket, limit=limit, window_seconds=60, cost=limit - 1)
        async with raw(plyr) as http:
            # One write left: a call liking two songs is refused whole.
            pairs = [("apiKey", alice_key), ("id", song(free[0])), ("id", song(free[1]))]
            answer = await _post(http, "star", pairs)
            assert answer.status_code == 429
            assert error_code(checked_xml(answer.content)) == 0
            assert await likes.is_liked(plyr.runtime, did, free) == set()
            # One song is one write: within the budget.
            await _forget(plyr, bucket)
            await ratelimit.hit(
                plyr.runtime, bucket, limit=limit, window_seconds=60, cost=limit - 1
            )
            root = await xml_pairs(http, "star", [("apiKey", alice_key), ("id", song(free[0]))])
            assert error_code(root) is None
            assert await likes.is_liked(plyr.runtime, did, free) == {free[0]}
            # Liked already: nothing to write, nothing counted (the budget is spent).
            root = await xml_pairs(http, "star", [("apiKey", alice_key), ("id", song(free[0]))])
            assert error_code(root) is None
            await _forget(plyr, bucket)
            root = await xml_pairs(http, "unstar", [("apiKey", alice_key), ("id", song(free[0]))])
            assert error_code(root) is None
        assert await likes.is_liked(plyr.runtime, did, free) == set()
    finally:
        await _forget(plyr, bucket)


async def test_too_many_ids_are_refused_before_any_work(
    plyr: PlyrServer, alice: SignedIn, alice_key: str, library: Library
) -> None:
    first = library.tracks["first song"]
    async with opensonic(plyr, api_key=alice_key) as sonic:
        before = len(await sonic.get_playlists())
    async with raw(plyr) as http:
        many = [("id", song(first))] * 501
        root = await xml_pairs(http, "star", [("apiKey", alice_key), *many])
        assert error_code(root) == 0
        songs = [("songId", song(first))] * 501
        root = await xml_pairs(
            http, "createPlaylist", [("apiKey", alice_key), ("name", "too long"), *songs]
        )
        assert error_code(root) == 0
        root = await xml_pairs(http, "unstar", [("apiKey", alice_key), *many])
        assert error_code(root) == 0
    async with opensonic(plyr, api_key=alice_key) as sonic:
        assert len(await sonic.get_playlists()) == before
