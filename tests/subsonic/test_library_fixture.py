"""The package's library fixture is what the other tests assume it is."""

from __future__ import annotations

import httpx

from tests.subsonic.conftest import Library
from tests.support.plyr_server import PlyrServer


async def test_the_library_is_published_with_its_album_and_tags(
    plyr: PlyrServer, library: Library
) -> None:
    async with httpx.AsyncClient(base_url=plyr.url, timeout=30) as http:
        first = (await http.get(f"/api/tracks/{library.tracks['first song']}")).json()
        single = (await http.get(f"/api/tracks/{library.tracks['morning']}")).json()
    assert len(library.tracks) == 5
    assert first["album"] == library.album
    assert first["image_url"]
    assert sorted(first["tags"]) == ["ambient", "night"]
    assert single["album"] is None
    assert single["tags"] == ["folk"]
