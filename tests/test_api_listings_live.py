"""The track listings end to end, on SQLite and PostgreSQL: a real plyr with its worker on
the local PDS, a developer token made the way a user makes one, real uploads and likes
through the API. The caller's own tracks come back newest first across pages with the
upload's fields and tags; an artist's listing and the likes (newest like first) follow
what the API did, an unlike included; another user's token sees only their own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser

from plyr.atproto.devnet import Network
from tests.conftest import devnet_settings
from tests.support.audio import make_audio
from tests.support.databases import clear_tables
from tests.support.dev_tokens import create_dev_token
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import upload_published

pytestmark = pytest.mark.browser

MANY = 1_000_000


@dataclass(frozen=True)
class Live:
    plyr: PlyrServer
    alice: str  # developer tokens
    bob: str
    uploaded: list[dict[str, Any]]  # alice's, oldest first

    def client(self, token: str | None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.plyr.url, headers=headers, timeout=30)


async def _walk(http: httpx.AsyncClient, path: str, **params: Any) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        response = await http.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["tracks"])
        cursor = body["cursor"]
        if cursor is None:
            return pages


@pytest.fixture(scope="module")
async def live(
    atproto_net: Network, db_url: str, browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Live]:
    folder = tmp_path_factory.mktemp("listings")
    settings = devnet_settings(
        folder,
        db_url,
        atproto_net,
        rate_limit_writes_per_minute=MANY,
        rate_limit_uploads_per_hour=MANY,
    )
    async with running_plyr(settings, worker=True) as plyr:
        alice = await create_dev_token(browser, plyr, atproto_net, "alice.test", name="lists")
        bob = await create_dev_token(browser, plyr, atproto_net, "bob.test", name="lists")
        uploaded = []
        async with httpx.AsyncClient(
            base_url=plyr.url, headers={"Authorization": f"Bearer {alice}"}, timeout=30
        ) as http:
            for n in range(3):
                audio = make_audio(
                    Path(folder) / f"take{n}.wav", "wav", seconds=2, freq=300 + 90 * n
                )
                uploaded.append(
                    await upload_published(
                        http, audio, title=f"take {n}", album="takes", tags=f"demo, take{n}"
                    )
                )
        yield Live(plyr, alice, bob, uploaded)
    await clear_tables(plyr.runtime.engine)


async def test_my_tracks_come_back_newest_first_across_pages(live: Live) -> None:
    async with live.client(live.alice) as http:
        pages = await _walk(http, "/api/me/tracks", limit=2)
    assert [len(page) for page in pages] == [2, 1]
    tracks = [track for page in pages for track in page]
    assert [t["id"] for t in tracks] == [t["id"] for t in reversed(live.uploaded)]
    newest = tracks[0]
    assert newest["title"] == "take 2"
    assert newest["album"] == "takes"
    assert newest["tags"] == ["demo", "take2"]
    assert newest["publish_state"] == "published"
    assert newest["uri"].startswith("at://did:")
    async with live.client(live.bob) as http:
        assert await _walk(http, "/api/me/tracks") == [[]]  # bob has none of his own


async def test_an_artists_listing_and_everyones(live: Live) -> None:
    async with live.client(None) as http:
        by_handle = await _walk(http, "/api/tracks", artist="alice.test", limit=1)
        everyone = await _walk(http, "/api/tracks")
    assert [[t["title"] for t in page] for page in by_handle] == [
        ["take 2"],
        ["take 1"],
        ["take 0"],
    ]
    assert [t["title"] for t in everyone[0]] == ["take 2", "take 1", "take 0"]


async def test_likes_come_back_newest_like_first(live: Live) -> None:
    first, second, third = (track["id"] for track in live.uploaded)
    async with live.client(live.bob) as http:
        for track_id in (second, first, third):
            liked = await http.post(f"/api/tracks/{track_id}/like")
            assert liked.status_code == 200, liked.text
        pages = await _walk(http, "/api/me/likes", limit=2)
        assert [[t["id"] for t in page] for page in pages] == [[third, first], [second]]
        assert (await http.delete(f"/api/tracks/{first}/like")).status_code == 200
        pages = await _walk(http, "/api/me/likes", limit=2)
        assert [[t["id"] for t in page] for page in pages] == [[third, second]]
    async with live.client(live.alice) as http:
        assert await _walk(http, "/api/me/likes") == [[]]  # bob's likes are his
