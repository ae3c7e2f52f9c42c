"""Records written by other clients reach plyr through the firehose; repair republishes what
went missing from a PDS. A running plyr (web + worker + ingest) against the real local PDS,
on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from playwright.async_api import Browser
from sqlalchemy import select, update

from plyr.atproto.devnet import Network
from plyr.atproto.repo import RepoClient
from plyr.atproto.syntax import format_datetime
from plyr.atproto.tid import next_tid
from plyr.atproto.xrpc import PasswordSession, XrpcClient
from plyr.db.models import (
    Artist,
    Comment,
    Like,
    ListItem,
    MusicList,
    Profile,
    PublishState,
    RecordState,
    Track,
    utcnow,
)
from plyr.social import comments
from tests.conftest import devnet_settings
from tests.support.audio import make_audio
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, public_record, sign_in, upload_published

pytestmark = pytest.mark.browser
T = TypeVar("T")


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-ingest"),
        db_url,
        atproto_net,
        ingest_url=atproto_net.pds_url,
        ingest_enabled=True,
    )
    async with running_plyr(settings, worker=True, ingest=True) as server:
        yield server
    await clear_tables(server.runtime.engine)


@pytest.fixture(scope="module")
async def alice(browser: Browser, plyr: PlyrServer, atproto_net: Network) -> SignedIn:
    return await sign_in(browser, plyr, atproto_net, "alice.test")


@pytest.fixture(scope="module")
async def track(
    plyr: PlyrServer, alice: SignedIn, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    source = make_audio(tmp_path_factory.mktemp("ingest-audio") / "heard.mp3", "mp3", seconds=3)
    async with alice.client(plyr) as http:
        return await upload_published(http, source, title="heard elsewhere")


@pytest.fixture
async def carol(atproto_net: Network) -> AsyncIterator[RepoClient]:
    """Carol uses another client: she never signs in to plyr and writes straight to her PDS."""
    account = atproto_net.account("carol.test")
    async with httpx.AsyncClient(timeout=30) as http:
        session = await PasswordSession.create(
            http, atproto_net.pds_url, account.handle, account.password
        )
        yield RepoClient(XrpcClient(http, atproto_net.pds_url, session), session.did)


async def eventually(check: Callable[[], Awaitable[T | None]], seconds: float = 30) -> T:
    async with asyncio.timeout(seconds):
        while True:
            found = await check()
            if found is not None and found is not False:
                return found
            await asyncio.sleep(0.1)


def now() -> str:
    return format_datetime(utcnow())


async def set_publish_state(plyr: PlyrServer, track_id: int, state: PublishState) -> None:
    async with plyr.runtime.sessions() as db:
        await db.execute(update(Track).where(Track.id == track_id).values(publish_state=state))
        await db.commit()


async def test_another_clients_records_are_indexed_and_deletions_remove_them(
    plyr: PlyrServer, track: dict[str, Any], carol: RepoClient
) -> None:
    ns = plyr.settings.atproto_namespace
    subject = {"uri": track["uri"], "cid": track["cid"]}
    like_rkey, comment_rkey, list_rkey = next_tid(), next_tid(), next_tid()
    await carol.put_record(f"{ns}.like", like_rkey, {"subject": subject, "createdAt": now()})
    await carol.put_record(
        f"{ns}.comment",
        comment_rkey,
        {"subject": subject, "text": "the bridge!", "timestampMs": 1500, "createdAt": now()},
    )
    await carol.put_record(
        f"{ns}.list",
        list_rkey,
        {
            "name": "road trip",
            "listType": "playlist",
            "items": [{"subject": subject}, {"subject": {**subject, "uri": subject["uri"]}}],
            "createdAt": now(),
        },
    )
    await carol.put_record(f"{ns}.actor.profile", "self", {"bio": "hi", "createdAt": now()})

    async def indexed() -> tuple[Like, Comment, MusicList, Profile] | None:
        async with plyr.runtime.sessions() as db:
            like = await db.scalar(select(Like).where(Like.did == carol.did))
            comment = await db.scalar(select(Comment).where(Comment.did == carol.did))
            playlist = await db.scalar(select(MusicList).where(MusicList.did == carol.did))
            profile = await db.scalar(select(Profile).where(Profile.did == carol.did))
            if like and comment and playlist and profile:
                return like, comment, playlist, profile
            return None

    like, comment, playlist, profile = await eventually(indexed)
    assert like.track_id == track["id"]
    assert like.rkey == like_rkey
    assert like.record_state == RecordState.published
    assert (comment.text, comment.timestamp_ms, comment.track_id) == (
        "the bridge!",
        1500,
        track["id"],
    )
    assert (playlist.name, playlist.list_type.value) == ("road trip", "playlist")
    assert profile.bio == "hi"
    async with plyr.runtime.sessions() as db:
        items = (
            await db.scalars(
                select(ListItem.track_id)
                .where(ListItem.list_id == playlist.id)
                .order_by(ListItem.position)
            )
        ).all()
        author = await db.get(Artist, carol.did)
    assert list(items) == [track["id"], track["id"]]
    assert author is not None
    assert author.handle == "carol.test"

    # An edit by the other client updates the index; deletions remove the rows.
    await carol.put_record(
        f"{ns}.comment",
        comment_rkey,
        {"subject": subject, "text": "the bridge, again", "timestampMs": 1500, "createdAt": now()},
    )

    async def edited() -> bool:
        async with plyr.runtime.sessions() as db:
            text = await db.scalar(select(Comment.text).where(Comment.did == carol.did))
        return text == "the bridge, again"

    await eventually(edited)
    for name, rkey in (("like", like_rkey), ("comment", comment_rkey), ("list", list_rkey)):
        await carol.delete_record(f"{ns}.{name}", rkey)
    await carol.delete_record(f"{ns}.actor.profile", "self")

    async def all_gone() -> bool:
        async with plyr.runtime.sessions() as db:
            left = [
                await db.scalar(select(model.id).where(model.did == carol.did))
                for model in (Like, Comment, MusicList, Profile)
            ]
        return left == [None, None, None, None]

    await eventually(all_gone)


async def test_invalid_records_and_unknown_tracks_are_skipped(
    plyr: PlyrServer, track: dict[str, Any], carol: RepoClient
) -> None:
    ns = plyr.settings.atproto_namespace
    # A like of a track plyr does not index, then a good one: only the good one arrives.
    stranger = {"uri": f"at://{carol.did}/{ns}.track/{next_tid()}", "cid": track["cid"]}
    await carol.put_record(f"{ns}.like", next_tid(), {"subject": stranger, "createdAt": now()})
    # A comment that breaks the lexicon (written unvalidated, as a careless client might).
    bad = next_tid()
    await carol.xrpc.procedure(
        "com.atproto.repo.putRecord",
        {
            "repo": carol.did,
            "collection": f"{ns}.comment",
            "rkey": bad,
            "validate": False,
            "record": {
                "$type": f"{ns}.comment",
                "subject": {"uri": track["uri"], "cid": track["cid"]},
                "text": "",
                "timestampMs": -5,
                "createdAt": now(),
            },
        },
    )
    good = next_tid()
    await carol.put_record(
        f"{ns}.like",
        good,
        {"subject": {"uri": track["uri"], "cid": track["cid"]}, "createdAt": now()},
    )

    async def good_arrived() -> list[str] | None:
        async with plyr.runtime.sessions() as db:
            rkeys = list(await db.scalars(select(Like.rkey).where(Like.did == carol.did)))
        return rkeys or None

    assert await eventually(good_arrived) == [good]
    async with plyr.runtime.sessions() as db:
        assert await db.scalar(select(Comment.id).where(Comment.rkey == bad)) is None
    await carol.delete_record(f"{ns}.like", good)


async def test_plyrs_own_records_come_back_unchanged(
    plyr: PlyrServer, alice: SignedIn, atproto_net: Network, track: dict[str, Any]
) -> None:
    """A comment plyr wrote is echoed by the firehose; the row stays as it was."""
    made = await comments.add_comment(
        plyr.runtime, alice.did, track["id"], "my own words", 2000, alice.session_id
    )

    async def published() -> Comment | None:
        async with plyr.runtime.sessions() as db:
            row = await db.get(Comment, made.id)
        return row if row and row.record_state == RecordState.published else None

    row = await eventually(published)
    assert row.atproto_uri is not None
    record = await public_record(atproto_net, row.atproto_uri)
    assert record is not None
    assert record["value"]["text"] == "my own words"
    await asyncio.sleep(1.0)  # the echo has arrived by now
    async with plyr.runtime.sessions() as db:
        again = await db.get(Comment, made.id)
        count = len(list(await db.scalars(select(Comment.id).where(Comment.did == alice.did))))
    assert again is not None
    assert again.atproto_cid == row.atproto_cid
    assert count == 1


async def test_repair_republishes_missing_and_failed_records(
    plyr: PlyrServer, alice: SignedIn, atproto_net: Network, tmp_path: Path
) -> None:
    source = make_audio(tmp_path / "fragile.mp3", "mp3", seconds=3, freq=520)
    async with alice.client(plyr) as http:
        fragile = await upload_published(http, source, title="fragile")
    ns = plyr.settings.atproto_namespace
    # The track record disappears from the PDS behind plyr's back. A deletion the firehose
    # brings would unindex the track; plyr leaves alone a track it is still publishing, so
    # the row is held so while the deletion passes (a later record of the account arriving
    # means the follower read it).
    await set_publish_state(plyr, fragile["id"], PublishState.publishing)
    account = atproto_net.account("alice.test")
    async with httpx.AsyncClient(timeout=30) as http:
        session = await PasswordSession.create(
            http, atproto_net.pds_url, account.handle, account.password
        )
        direct = RepoClient(XrpcClient(http, atproto_net.pds_url, session), session.did)
        await direct.delete_record(f"{ns}.track", fragile["uri"].rsplit("/", 1)[-1])
        marker = f"deletion read {next_tid()}"
        await direct.put_record(f"{ns}.actor.profile", "self", {"bio": marker, "createdAt": now()})

    async def marker_read() -> bool:
        async with plyr.runtime.sessions() as db:
            return await db.scalar(select(Profile.bio).where(Profile.did == alice.did)) == marker

    await eventually(marker_read)
    await set_publish_state(plyr, fragile["id"], PublishState.published)
    assert await public_record(atproto_net, fragile["uri"]) is None
    # And a comment that the PDS once refused is marked failed.
    made = await comments.add_comment(
        plyr.runtime, alice.did, fragile["id"], "second try", 0, alice.session_id
    )

    async def settled() -> bool:
        async with plyr.runtime.sessions() as db:
            state = await db.scalar(select(Comment.record_state).where(Comment.id == made.id))
        return state == RecordState.published

    await eventually(settled)
    async with plyr.runtime.sessions() as db:
        await db.execute(
            update(Comment)
            .where(Comment.id == made.id)
            .values(record_state=RecordState.failed, record_error="refused once")
        )
        await db.commit()

    async with alice.client(plyr) as http:
        answer = await http.post("/api/records/repair")
    assert answer.status_code == 200, answer.text
    counts = answer.json()
    assert counts["missing"] >= 1, counts
    assert counts["failed"] >= 1, counts

    async def restored() -> dict[str, Any] | None:
        return await public_record(atproto_net, fragile["uri"])

    record = await eventually(restored)
    assert record["value"]["title"] == "fragile"  # same rkey, same URI: nothing duplicated
    await eventually(settled)
    async with plyr.runtime.sessions() as db:
        row = await db.get(Track, fragile["id"])
    assert row is not None
    assert row.atproto_uri == fragile["uri"]
