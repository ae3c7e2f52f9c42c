"""Alembic environment: runs migrations over the async engine on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from plyr.db.engine import create_engine
from plyr.db.models import Base, UTCDateTime
from plyr.search.schema import include_name

config = context.config
target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations must not import plyr's types: render UTCDateTime as the plain column it is.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A table rebuild (0010) drops and renames tables: with foreign keys on, dropping a
        # parent would cascade into its children. SQLite ignores this pragma inside a
        # transaction, so it comes first; every key is checked before the commit instead.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=sqlite,
        render_item=_render_item,
        compare_type=True,
        # FTS5 tables and trigram indexes of search (migration 0008) are not in the models.
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migrations left rows with missing parents: {broken[:10]}")


async def _run_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "plyr.db.migrate sets sqlalchemy.url"
    connection = config.attributes.get("connection")
    if connection is not None:
        await connection.run_sync(_configure)
        return
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_configure)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
