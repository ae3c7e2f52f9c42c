"""Migrations: up, down and up again on both backends; the models and migrations agree.

Each test gets a database of its own (a SQLite file, or a fresh PostgreSQL database),
not the shared `db_url` one, because these tests drop the schema.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from plyr.cli import app as cli_app
from plyr.config import get_settings
from plyr.db import migrate
from plyr.db.engine import create_engine
from plyr.db.models import Artist, Base, PublishState, Track
from plyr.runtime import Runtime
from plyr.search.schema import include_name, is_search_object
from tests.conftest import make_settings
from tests.support.databases import (
    REQUIRE_POSTGRES,
    postgres_available,
    temporary_postgres_database,
)

SCHEMA_TABLES = set(Base.metadata.tables)


@pytest.fixture(params=["sqlite", "postgresql"])
async def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database nobody else uses."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    problem = await postgres_available()
    if problem:
        if REQUIRE_POSTGRES:
            pytest.fail(problem)
        pytest.skip(problem)
    async with temporary_postgres_database() as url:
        yield url


@pytest.fixture
async def engine(fresh_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(fresh_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    # Search's FTS5 tables (SQLite) are not in the models (migration 0008).
    return {name for name in names if not is_search_object(name, "table")}


async def schema_diff(engine: AsyncEngine) -> list[Any]:
    """What alembic autogenerate would write: the models compared with the database."""

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as conn:
        return await conn.run_sync(compare)


async def test_upgrade_downgrade_upgrade(fresh_url: str, engine: AsyncEngine) -> None:
    assert {"artists", "tracks", "jobs"} <= SCHEMA_TABLES
    assert await table_names(engine) == set()
    assert await migrate.current_revision(engine) is None

    await migrate.upgrade_async(fresh_url)
    assert await table_names(engine) == SCHEMA_TABLES | {"alembic_version"}
    assert await migrate.current_revision(engine) == migrate.head_revision()

    await migrate.upgrade_async(fresh_url)  # again: nothing to do, nothing breaks
    assert await migrate.current_revision(engine) == migrate.head_revision()

    await asyncio.to_thread(migrate.downgrade, fresh_url, "base")
    assert await table_names(engine) & SCHEMA_TABLES == set()
    assert await migrate.current_revision(engine) is None

    await migrate.upgrade_async(fresh_url)
    assert await table_names(engine) >= SCHEMA_TABLES
    assert await migrate.current_revision(engine) == migrate.head_revision()
    assert await schema_diff(engine) == []


async def test_models_and_migrations_agree(fresh_url: str, engine: AsyncEngine) -> None:
    # On an empty database the comparison sees every table missing: it really compares.
    missing = await schema_diff(engine)
    added_tables = {diff[1].name for diff in missing if diff[0] == "add_table"}
    assert added_tables == SCHEMA_TABLES

    await migrate.upgrade_async(fresh_url)

    assert await schema_diff(engine) == []


async def test_head_is_numbered_and_single() -> None:
    head = migrate.head_revision()

    assert head is not None
    assert head.isdigit()
    assert len(head) == 4
    assert migrate.next_revision_id() == f"{int(head) + 1:04d}"


async def test_db_revision_autogenerates_an_empty_migration_when_models_match(
    fresh_url: str, engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`plyr db revision -m x` migrates, then writes the next numbered file (in a copy)."""
    real_versions = migrate.MIGRATIONS_DIR / "versions"
    migrations = tmp_path / "migrations"
    shutil.copytree(
        migrate.MIGRATIONS_DIR, migrations, ignore=shutil.ignore_patterns("__pycache__")
    )
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", migrations)
    head = migrate.head_revision()
    assert head is not None
    expected = f"{int(head) + 1:04d}"

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            cli_app,
            ["db", "revision", "-m", "add nothing"],
            env={"PLYR_DATABASE_URL": fresh_url, "PLYR_DATA_DIR": str(tmp_path / "data")},
        )
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    # It brought the database to head first, so the diff is against the current schema.
    assert await migrate.current_revision(engine) == head
    written = migrations / "versions" / f"{expected}_add_nothing.py"
    assert written.is_file(), sorted(p.name for p in (migrations / "versions").iterdir())
    source = written.read_text()
    assert f"Revision ID: {expected}\nRevises: {head}\n" in source
    # Models and migrations agree, so autogenerate found nothing to do.
    assert "op." not in source
    assert migrate.head_revision() == expected
    # The real migrations folder is untouched.
    assert not (real_versions / written.name).exists()


async def test_foreign_keys_are_enforced(fresh_url: str, tmp_path: Path) -> None:
    await migrate.upgrade_async(fresh_url)
    runtime = Runtime.open(make_settings(tmp_path, fresh_url))
    try:
        async with runtime.sessions() as session:
            session.add(
                Track(
                    artist_did="did:plc:nobody",
                    title="orphan",
                    artist_name="nobody",
                    file_type="mp3",
                    content_hash="0" * 64,
                    original_key="audio/x.mp3",
                    rkey="3k2orphan",
                    publish_state=PublishState.processing,
                )
            )
            with pytest.raises(IntegrityError):
                await session.commit()

        # With the artist present the same row is fine, and deleting the artist cascades.
        async with runtime.sessions() as session:
            artist = Artist(did="did:plc:somebody", handle="somebody.test", pds_url="https://pds")
            session.add(artist)
            session.add(
                Track(
                    artist_did=artist.did,
                    title="kept",
                    artist_name="somebody",
                    file_type="mp3",
                    content_hash="1" * 64,
                    original_key="audio/y.mp3",
                    rkey="3k2kept",
                    created_at=datetime.now(UTC),
                )
            )
            await session.commit()
        async with runtime.engine.begin() as conn:
            await conn.execute(text("DELETE FROM artists WHERE did = 'did:plc:somebody'"))
            remaining = await conn.scalar(text("SELECT count(*) FROM tracks"))
        assert remaining == 0
    finally:
        await runtime.close()


async def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'pragmas.db'}"
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            assert (await conn.scalar(text("PRAGMA journal_mode"))) == "wal"
            assert (await conn.scalar(text("PRAGMA foreign_keys"))) == 1
            assert (await conn.scalar(text("PRAGMA busy_timeout"))) > 0
    finally:
        await engine.dispose()
