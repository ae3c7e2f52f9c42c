"""Ids users hold (in queues, links, listen tokens, stats) are never handed out twice, on
SQLite and PostgreSQL, and deleting a track takes it out of every saved queue."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser
from sqlalchemy import Integer, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from plyr.atproto.devnet import Network
from plyr.db.models import Base, PlayQueue
from tests.conftest import devnet_settings
from tests.support.audio import make_audio
from tests.support.databases import clear_tables
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import sign_in, upload_published

pytestmark = pytest.mark.browser


def integer_keyed_tables() -> list[str]:
    """Every table whose key is one integer column it hands out itself: its ids can end up in
    a user's hands. A key that is another table's id (a foreign key) is that table's."""
    return sorted(
        table.name
        for table in Base.metadata.tables.values()
        if len(table.primary_key.columns) == 1
        and isinstance(next(iter(table.primary_key.columns)).type, Integer)
        and not next(iter(table.primary_key.columns)).foreign_keys
    )


def test_every_integer_keyed_table_is_declared_never_reused() -> None:
    tables = integer_keyed_tables()
    assert {"tracks", "likes", "plays"} <= set(tables)
    forgetful = [
        name for name in tables if not Base.metadata.tables[name].kwargs.get("sqlite_autoincrement")
    ]
    assert forgetful == [], f"add NEVER_REUSED to the table args of {forgetful}"


async def _id_defaults(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = await conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
            )
            return {name: sql for name, sql in rows}

        def defaults(sync_conn: object) -> dict[str, str]:
            inspector = inspect(sync_conn)
            found = {}
            for name in integer_keyed_tables():
                key = next(iter(Base.metadata.tables[name].primary_key.columns)).name
                column = next(c for c in inspector.get_columns(name) if c["name"] == key)
                found[name] = str(column.get("default")) + str(column.get("identity") or "")
            return found

        return await conn.run_sync(defaults)


async def test_the_migrated_schema_never_reuses_ids(db_url: str) -> None:
    from plyr.db.engine import create_engine

    engine = create_engine(db_url)
    try:
        declared = await _id_defaults(engine)
        for name in integer_keyed_tables():
            if engine.dialect.name == "sqlite":
                assert "PRIMARY KEY AUTOINCREMENT" in declared[name], declared[name]
            else:  # a sequence (serial) or an identity: both only go forwards
                assert "nextval" in declared[name] or "start" in declared[name], declared[name]
        # Behaviour, not just declarations: the newest row deleted, its id stays unused.
        async with engine.begin() as conn:
            first = (
                await conn.execute(text("INSERT INTO tags (name) VALUES ('id-a') RETURNING id"))
            ).scalar_one()
            await conn.execute(text("DELETE FROM tags WHERE id = :id"), {"id": first})
            second = (
                await conn.execute(text("INSERT INTO tags (name) VALUES ('id-b') RETURNING id"))
            ).scalar_one()
            await conn.execute(text("DELETE FROM tags WHERE name = 'id-b'"))
        assert second > first
    finally:
        await engine.dispose()


async def test_a_deleted_track_leaves_queues_and_its_id_is_never_given_again(
    browser: Browser, atproto_net: Network, db_url: str, tmp_path: Path
) -> None:
    settings = devnet_settings(tmp_path / "plyr", db_url, atproto_net)
    async with running_plyr(settings, worker=True) as plyr:
        try:
            await _delete_and_upload_again(browser, atproto_net, plyr, tmp_path)
        finally:
            await clear_tables(plyr.runtime.engine)


async def _delete_and_upload_again(
    browser: Browser, atproto_net: Network, plyr: PlyrServer, tmp_path: Path
) -> None:
    alice = await sign_in(browser, plyr, atproto_net, "alice.test")
    bob = await sign_in(browser, plyr, atproto_net, "bob.test")
    async with alice.client(plyr) as http, bob.client(plyr) as listener:
        kept = await upload_published(
            http, make_audio(tmp_path / "kept.mp3", "mp3", seconds=2, freq=330)
        )
        doomed = await upload_published(
            http, make_audio(tmp_path / "doomed.mp3", "mp3", seconds=2, freq=550)
        )
        queued = await listener.put(
            "/api/queue",
            json={
                "revision": 0,
                "track_ids": [doomed["id"], kept["id"], doomed["id"]],
                "current": 1,
                "position_ms": 1500,
            },
        )
        assert queued.status_code == 200, queued.text
        revision = queued.json()["revision"]

        deleted = await http.delete(f"/api/tracks/{doomed['id']}")
        assert deleted.status_code == 202, deleted.text

        # The saved row itself no longer holds the id, and the current track is kept.
        async with plyr.runtime.sessions() as db:
            row = (await db.execute(select(PlayQueue).where(PlayQueue.did == bob.did))).scalar_one()
            assert row.track_ids == [kept["id"]]
            assert row.current == 0
        after = (await listener.get("/api/queue")).json()
        assert [track["id"] for track in after["tracks"]] == [kept["id"]]
        assert after["revision"] > revision  # other devices reload instead of writing back

        # The deleted track was the newest: SQLite without AUTOINCREMENT reused its id.
        newer = await upload_published(
            http, make_audio(tmp_path / "newer.mp3", "mp3", seconds=2, freq=770)
        )
        assert newer["id"] > doomed["id"]
        gone = await listener.get(f"/api/tracks/{doomed['id']}")
        assert gone.status_code == 404
