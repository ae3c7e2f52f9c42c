"""plyr's own writes come back through the firehose, sometimes after plyr has written a
newer version of the same record. An album made through uploads is written several times
(empty, then one entry, then two); an echo of an earlier commit must not overwrite the
album its later commits filled (it did: `item_count: 0` and no entries). The events here are
the PDS's real ones, read from its firehose and handed to the real indexer late, as a
lagging ingest would. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import websockets
from playwright.async_api import Browser
from sqlalchemy import select

from plyr.atproto.devnet import Network
from plyr.atproto.firehose import RecordEvent, decode_frame, record_events, subscribe_url
from plyr.db.models import Job, JobStatus, ListType, MusicList
from plyr.ingest import handler_for
from tests.conftest import devnet_settings
from tests.support.audio import make_audio
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import sign_in, upload_published

pytestmark = pytest.mark.browser
ALBUM = "echoes of the album"


async def firehose_events(pds_url: str, namespace: str) -> list[RecordEvent]:
    """Every event of plyr's namespace the PDS has sequenced, from the start."""
    events: list[RecordEvent] = []
    async with websockets.connect(subscribe_url(pds_url, 0), max_size=2**22) as socket:
        while True:
            try:
                frame = await asyncio.wait_for(socket.recv(), timeout=2)
            except TimeoutError:
                return events  # caught up: nothing more to replay
            header, body = decode_frame(frame if isinstance(frame, bytes) else frame.encode())
            if header.get("t") == "#commit":
                events.extend(record_events(body, namespace))


async def settled(plyr: PlyrServer) -> None:
    """Every job (uploads, publishing, record syncs) has run."""
    async with asyncio.timeout(60):
        while True:
            async with plyr.runtime.sessions() as db:
                busy = await db.scalar(
                    select(Job.id)
                    .where(Job.status.in_((JobStatus.queued, JobStatus.running)))
                    .limit(1)
                )
            if busy is None:
                return
            await asyncio.sleep(0.1)


async def album(plyr: PlyrServer, http: Any) -> dict[str, Any]:
    async with plyr.runtime.sessions() as db:
        row = await db.scalar(
            select(MusicList).where(MusicList.list_type == ListType.album, MusicList.name == ALBUM)
        )
    assert row is not None
    response = await http.get(f"/api/lists/{row.id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_late_echo_of_an_older_album_write_changes_nothing(
    browser: Browser, atproto_net: Network, db_url: str, tmp_path: Path
) -> None:
    settings = devnet_settings(tmp_path / "plyr", db_url, atproto_net)
    async with running_plyr(settings, worker=True) as plyr:
        try:
            alice = await sign_in(browser, plyr, atproto_net, "alice.test")
            async with alice.client(plyr) as http:
                for index in range(2):
                    source = make_audio(tmp_path / f"{index}.mp3", "mp3", freq=300 + 90 * index)
                    await upload_published(http, source, title=f"echo {index}", album=ALBUM)
                await settled(plyr)
                before = await album(plyr, http)
                assert before["item_count"] == 2
                assert before["record_state"] == "published"

                namespace = settings.atproto_namespace
                writes = [
                    event
                    for event in await firehose_events(atproto_net.pds_url, namespace)
                    if event.uri == before["uri"]
                ]
                assert len(writes) >= 2, "the album was written once only: nothing to echo"
                assert all(event.rev for event in writes)
                handler = handler_for(namespace, writes[0].collection)
                assert handler is not None
                # The earlier versions (the first one empty) arrive after the newest is indexed.
                assert not writes[0].record or not writes[0].record.get("items")
                for event in writes[:-1]:
                    await handler(plyr.runtime, event)
                await settled(plyr)

                after = await album(plyr, http)
                assert after["item_count"] == 2
                assert [entry["subject_uri"] for entry in after["entries"]] == [
                    entry["subject_uri"] for entry in before["entries"]
                ]
                assert after["record_state"] == "published"
        finally:
            await clear_tables(plyr.runtime.engine)
