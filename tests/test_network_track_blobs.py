"""A track published by plyr carries its artwork as a blob (`imageBlob`) beside its audio,
both in the artist's PDS; the record coming back through the firehose changes nothing,
and an edit of it by another client is followed without fetching anything again. The
real local PDS and its firehose, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser
from sqlalchemy import func, select

from plyr.atproto.devnet import Network
from plyr.db.models import Job, Track
from tests.conftest import devnet_settings
from tests.support.audio import make_audio, make_image
from tests.support.databases import clear_tables
from tests.support.network_tracks import (
    other_client,
    plays,
    put_track,
    settled,
    stored,
    wait_until_following,
)
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import public_record, sign_in, upload

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-track-blobs"),
        db_url,
        atproto_net,
        ingest_url=atproto_net.pds_url,
        ingest_enabled=True,
    )
    async with running_plyr(settings, worker=True, ingest=True) as server:
        yield server
    await clear_tables(server.runtime.engine)


async def fetch_jobs(plyr: PlyrServer, track_id: int) -> int:
    async with plyr.runtime.sessions() as db:
        count = await db.scalar(
            select(func.count())
            .select_from(Job)
            .where(
                Job.kind == "track.fetch_audio",
                Job.payload["track_id"].as_integer() == track_id,
            )
        )
    return int(count or 0)


async def test_a_published_track_carries_its_artwork_blob_and_its_echo_changes_nothing(
    browser: Browser, plyr: PlyrServer, atproto_net: Network, tmp_path: Path
) -> None:
    alice = await sign_in(browser, plyr, atproto_net, "alice.test")
    async with other_client(atproto_net, "alice.test") as elsewhere:
        await wait_until_following(plyr, elsewhere)
        source = make_audio(tmp_path / "own.mp3", "mp3", seconds=2, freq=610)
        cover = make_image(tmp_path / "cover.png", "png", size=(300, 200))
        async with alice.client(plyr) as http:
            accepted = await upload(http, source, image=cover, title="with artwork")
            assert accepted.status_code == 202, accepted.text
            upload_id = accepted.json()["upload_id"]
            async with asyncio.timeout(60):
                while True:
                    status = (await http.get(f"/api/uploads/{upload_id}")).json()
                    track_id = status.get("track_id")
                    if track_id:
                        track = (await http.get(f"/api/tracks/{track_id}")).json()
                        if track["publish_state"] == "published":
                            break
                    await asyncio.sleep(0.1)

        async with plyr.runtime.sessions() as db:
            row = await db.get(Track, track_id)
        assert row is not None
        assert row.image_key is not None
        assert row.image_blob_cid is not None
        record = await public_record(atproto_net, track["uri"])
        assert record is not None
        value = record["value"]
        assert value["imageBlob"]["ref"]["$link"] == row.image_blob_cid
        assert value["imageBlob"]["mimeType"] == "image/jpeg"
        assert value["audioBlob"]["ref"]["$link"] == row.audio_blob_cid
        async with httpx.AsyncClient() as http:
            blob = await http.get(
                f"{atproto_net.pds_url}/xrpc/com.atproto.sync.getBlob",
                params={"did": alice.did, "cid": row.image_blob_cid},
            )
        assert blob.status_code == 200
        assert blob.content == await stored(plyr, row.image_key)

        # The record's own write comes back: nothing changes, nothing is fetched. A record
        # written after it and indexed means the echo was handled (one ordered stream).
        await wait_until_following(plyr, elsewhere)
        async with plyr.runtime.sessions() as db:
            again = await db.get(Track, track_id)
            mine = await db.scalar(
                select(func.count()).select_from(Track).where(Track.artist_did == alice.did)
            )
        assert again is not None
        assert (again.atproto_cid, again.updated_at) == (row.atproto_cid, row.updated_at)
        assert again.atproto_rev is not None
        assert mine == 1
        assert await fetch_jobs(plyr, track_id) == 0

        # Edited with another client (same blobs): the details follow, the media stay.
        rkey = track["uri"].rsplit("/", 1)[-1]
        await put_track(plyr, elsewhere, {**value, "title": "renamed elsewhere"}, rkey)
        renamed = await settled(plyr, alice.did, rkey, title="renamed elsewhere")
        assert renamed.id == track_id
        assert (renamed.original_key, renamed.image_key) == (row.original_key, row.image_key)
        assert renamed.audio_state == "ready"
        assert renamed.audio_url is None  # plyr's own address: plyr's copy, no source
        await asyncio.sleep(0.5)
        async with plyr.runtime.sessions() as db:
            busy = await db.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.kind == "track.fetch_audio", Job.status.in_(("queued", "running")))
            )
        assert not busy
        assert await plays(plyr, track_id) == source.read_bytes()

        # A client that drops imageBlob (the real plyr.fm's lexicon has none) but keeps
        # plyr's imageUrl: the artwork plyr holds stays.
        without_blob = {k: v for k, v in value.items() if k != "imageBlob"}
        assert without_blob["imageUrl"].endswith(f"/images/{track_id}")
        await put_track(plyr, elsewhere, {**without_blob, "title": "no image blob"}, rkey)
        kept = await settled(plyr, alice.did, rkey, title="no image blob")
        assert (kept.image_key, kept.thumbnail_key) == (row.image_key, row.thumbnail_key)
        assert kept.image_blob_cid is None
        assert await stored(plyr, row.image_key) is not None
        async with httpx.AsyncClient(base_url=plyr.url) as http:
            assert (await http.get(f"/images/{track_id}")).status_code == 200
