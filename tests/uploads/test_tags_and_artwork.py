"""What the file brings: its tags and cover fill empty fields; uploaded artwork; duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest

from plyr.atproto.devnet import Network
from plyr.db.models import Track
from tests.support.audio import make_audio, make_image
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import SignedIn, upload
from tests.support.uploads import count, follow_progress, public_record, stored_objects

pytestmark = pytest.mark.browser


async def test_file_tags_and_cover_fill_empty_fields(
    plyr: PlyrServer, alice: SignedIn, atproto_net: Network, tmp_path: Path
) -> None:
    cover = make_image(tmp_path / "cover.jpg", "jpeg", (800, 800))
    source = make_audio(
        tmp_path / "tagged.mp3",
        "mp3",
        tags={"title": "From The Tags", "album": "Tagged Album"},
        cover=cover.read_bytes(),
        freq=523,
    )
    async with alice.client(plyr) as http:
        accepted = await upload(http, source)
        final = (await follow_progress(http, accepted.json()["progress_url"]))[-1]
        assert final["phase"] == "published"
        assert any("title taken from the file" in w for w in final["warnings"])
        track = (await http.get(f"/api/tracks/{final['track_id']}")).json()
        assert track["title"] == "From The Tags"
        assert track["album"] == "Tagged Album"
        thumb = await http.get(track["thumbnail_url"])
        assert thumb.status_code == 200
        assert thumb.content[:4] == b"RIFF"  # a WebP thumbnail
    record = await public_record(atproto_net, track["uri"])
    assert record["value"]["imageUrl"] == track["image_url"]


async def test_uploaded_artwork_and_duplicates(
    plyr: PlyrServer, alice: SignedIn, tmp_path: Path
) -> None:
    source = make_audio(tmp_path / "dupe.flac", "flac", freq=777)
    art = make_image(tmp_path / "art.heic", "heic", (600, 600))
    async with alice.client(plyr) as http:
        first = await upload(http, source, title="original", image=art)
        final = (await follow_progress(http, first.json()["progress_url"]))[-1]
        assert final["phase"] == "published"
        track = (await http.get(f"/api/tracks/{final['track_id']}")).json()
        assert (await http.get(track["image_url"])).status_code == 200
        objects = stored_objects(plyr)
        tracks = await count(plyr, Track)

        again = await upload(http, source, title="the same bytes")
        final = (await follow_progress(http, again.json()["progress_url"]))[-1]
        assert final["phase"] == "failed"
        assert "already uploaded this file" in final["error"]
        assert "original" in final["error"]
    assert await count(plyr, Track) == tracks
    assert stored_objects(plyr) == objects  # nothing new, nothing of the first one lost
