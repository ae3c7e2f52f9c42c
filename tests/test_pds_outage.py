"""The user's PDS really stops (its process ends) and comes back: what plyr accepted while
it was down is kept and reaches the PDS when it returns. The network here is this module's
own, so stopping it leaves the shared one alone; SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser
from sqlalchemy import select

from plyr.atproto.devnet import Network, start_network
from plyr.db.models import Comment, Like, RecordState
from tests.conftest import devnet_settings
from tests.support.audio import make_audio
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, public_record, sign_in, upload_published
from tests.support.ports import free_port

pytestmark = pytest.mark.browser
ACCOUNTS = (("dana.test", "dana-test-password"),)


class Restartable:
    """A PLC + PDS whose process can be stopped and started again on the same ports and
    data folder (the PDS keeps its repos and keys; PLC its operations)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ports = {"plc_port": free_port(), "pds_port": free_port()}
        self.net: Network = self._start()

    def _start(self) -> Network:
        return start_network(self.folder, accounts=ACCOUNTS, **self.ports)

    def stop(self) -> None:
        self.net.stop()

    def restart(self) -> None:
        self.net = self._start()


@pytest.fixture(scope="module")
def outage_net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restartable]:
    network = Restartable(tmp_path_factory.mktemp("outage-net"))
    try:
        yield network
    finally:
        network.stop()


@pytest.fixture(scope="module")
async def plyr(
    outage_net: Restartable, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-outage"),
        db_url,
        outage_net.net,
    )
    async with running_plyr(settings, worker=True) as server:
        yield server
    await clear_tables(server.runtime.engine)


@pytest.fixture(scope="module")
async def dana(browser: Browser, plyr: PlyrServer, outage_net: Restartable) -> SignedIn:
    return await sign_in(browser, plyr, outage_net.net, "dana.test")


async def _row_state(plyr: PlyrServer, model: Any, row_id: int) -> tuple[Any, str | None]:
    async with plyr.runtime.sessions() as db:
        row = await db.get(model, row_id)
        assert row is not None, "the row must be kept while the PDS is down"
        return row.record_state, row.record_error


async def test_a_like_and_a_comment_made_while_the_pds_is_down_arrive_when_it_returns(
    plyr: PlyrServer, dana: SignedIn, outage_net: Restartable, tmp_path: Path
) -> None:
    source = make_audio(tmp_path / "weather.mp3", "mp3", seconds=3, freq=610)
    async with dana.client(plyr) as http:
        track = await upload_published(http, source, title="weather")

    outage_net.stop()
    try:
        async with dana.client(plyr) as http:
            liked = await http.post(f"/api/tracks/{track['id']}/like")
            said = await http.post(
                f"/api/tracks/{track['id']}/comments",
                json={"text": "said while it was down", "timestamp_ms": 500},
            )
        assert liked.status_code == 200, liked.text
        assert liked.json()["record_state"] == "pending"
        assert said.status_code == 201, said.text
        async with plyr.runtime.sessions() as db:
            like_id = await db.scalar(select(Like.id).where(Like.did == dana.did))
        assert like_id is not None
        comment_id = said.json()["id"]
        # The sync job keeps trying and says why; nothing is lost or marked failed.
        async with asyncio.timeout(20):
            while True:
                state, error = await _row_state(plyr, Like, like_id)
                if error and error.endswith("retrying"):
                    break
                await asyncio.sleep(0.2)
        assert state == RecordState.pending
        await asyncio.sleep(2)  # several failed attempts later, still pending
        assert (await _row_state(plyr, Like, like_id))[0] == RecordState.pending
        assert (await _row_state(plyr, Comment, comment_id))[0] == RecordState.pending
    finally:
        outage_net.restart()

    async with asyncio.timeout(60):
        while True:
            like_state, _ = await _row_state(plyr, Like, like_id)
            comment_state, _ = await _row_state(plyr, Comment, comment_id)
            if like_state == comment_state == RecordState.published:
                break
            await asyncio.sleep(0.2)
    async with plyr.runtime.sessions() as db:
        like = await db.get(Like, like_id)
        comment = await db.get(Comment, comment_id)
    assert like is not None
    assert comment is not None
    assert like.atproto_uri is not None
    assert comment.atproto_uri is not None
    like_record = await public_record(outage_net.net, like.atproto_uri)
    comment_record = await public_record(outage_net.net, comment.atproto_uri)
    assert like_record is not None
    assert comment_record is not None
    assert like_record["value"]["subject"] == {"uri": track["uri"], "cid": track["cid"]}
    assert comment_record["value"]["text"] == "said while it was down"
    plyr.runtime.lexicons.validate_record(like.atproto_uri.split("/")[3], like_record["value"])
