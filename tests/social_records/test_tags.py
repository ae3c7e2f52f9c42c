"""Tag counts over the published tracks."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn

pytestmark = pytest.mark.browser


async def test_tag_counts(plyr: PlyrServer, alice: SignedIn, tracks: list[dict[str, Any]]) -> None:
    async with alice.client(plyr) as http:
        for track, tags in zip(tracks, (["ambient", "field"], ["ambient"], []), strict=True):
            edited = await http.patch(f"/api/tracks/{track['id']}", json={"tags": tags})
            assert edited.status_code == 200, edited.text
        counted = {row["name"]: row["tracks"] for row in (await http.get("/api/tags")).json()}
        assert counted["ambient"] == 2
        assert counted["field"] == 1
        assert (await http.get("/api/tags", params={"limit": 0})).status_code == 422
