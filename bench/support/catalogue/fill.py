"""Filling a database with the catalogue: plyr's migrations, then every table in order
(the order the random draws depend on), then what PostgreSQL needs after a bulk load."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from plyr.db import migrate
from plyr.db.engine import create_engine
from support.catalogue.activity import likes, plays
from support.catalogue.artists import artists
from support.catalogue.lists import lists
from support.catalogue.plan import plan_albums, plan_tracks
from support.catalogue.state import Catalogue
from support.catalogue.tags import tags
from support.catalogue.tracks import tracks
from support.catalogue.writers import write_postgres, write_sqlite


async def fill(url: str, sizes: dict[str, int], seed: int, now: datetime) -> None:
    started = time.perf_counter()
    await migrate.upgrade_async(url)
    print(f"{'migrations':<14} {'':>10} {time.perf_counter() - started:8.1f} s")
    engine: AsyncEngine = create_engine(url)
    postgres = engine.dialect.name == "postgresql"
    catalogue = Catalogue(sizes, seed, now)

    async def put(label: str, build: Any) -> Any:
        began = time.perf_counter()
        made = build()
        tables = made if isinstance(made, tuple) else (made,)
        built = time.perf_counter() - began
        for data in tables:
            async with engine.begin() as conn:
                if postgres:
                    await write_postgres(conn, data)
                else:
                    await write_sqlite(conn, data)
            print(
                f"{data.table.name:<14} {data.count:>10,} {time.perf_counter() - began:8.1f} s"
                + (f"  (rows built in {built:.1f} s)" if data is tables[0] else "")
            )
            began = time.perf_counter()
            built = 0.0
        return made

    total = time.perf_counter()
    await put("artists", lambda: artists(catalogue))
    began = time.perf_counter()
    plan_tracks(catalogue)
    albums = plan_albums(catalogue)
    print(f"{'(planning)':<14} {'':>10} {time.perf_counter() - began:8.1f} s")
    await put("tracks", lambda: tracks(catalogue))
    await put("tags", lambda: tags(catalogue))
    await put("lists", lambda: lists(catalogue, albums))
    await put("likes", lambda: likes(catalogue))
    await put("plays", lambda: plays(catalogue))
    began = time.perf_counter()
    if postgres:
        async with engine.begin() as conn:
            for table in ("tracks", "tags", "lists", "list_items", "likes", "plays"):
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"
                    )
                )
        # What autovacuum does after a load this size (statistics, and the visibility map
        # that index-only scans need); this server may run with autovacuum off.
        async with engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM (ANALYZE)"))
    print(f"{'(finish)':<14} {'':>10} {time.perf_counter() - began:8.1f} s")
    print(f"{'total':<14} {'':>10} {time.perf_counter() - total:8.1f} s (without migrations)")
    await engine.dispose()
