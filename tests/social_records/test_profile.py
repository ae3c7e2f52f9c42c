"""The profile bio as the actor.profile record in the PDS."""

from __future__ import annotations

import pytest

from plyr.atproto.devnet import Network
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn
from tests.support.social_records import record_when

pytestmark = pytest.mark.browser


async def test_profile_bio(plyr: PlyrServer, alice: SignedIn, atproto_net: Network) -> None:
    async with alice.client(plyr) as http:
        saved = await http.put("/api/profile", json={"bio": "field recordings and synths"})
        assert saved.status_code == 200, saved.text
        collection = plyr.runtime.lexicons.collection("actor.profile")
        assert saved.json()["uri"] == f"at://{alice.did}/{collection}/self"
        record = await record_when(
            plyr,
            atproto_net,
            saved.json()["uri"],
            lambda r: r["value"].get("bio") == "field recordings and synths",
        )
        assert record["value"]["$type"] == collection
        too_long = await http.put("/api/profile", json={"bio": "é" * 300})
        assert too_long.status_code == 422
        shown = (await http.get("/api/profile/alice.test")).json()
        assert shown["bio"] == "field recordings and synths"
        assert (shown["handle"], shown["did"]) == ("alice.test", alice.did)
        assert (await http.get(f"/api/profile/{alice.did}")).json()["bio"] == shown["bio"]
        assert (await http.get("/api/profile/nobody.test")).status_code == 404
