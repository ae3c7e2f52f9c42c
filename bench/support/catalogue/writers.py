"""Writing one table's rows: SQLAlchemy Core executemany on SQLite, COPY on PostgreSQL,
in batches of `BATCH` rows."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import asyncpg
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from support.catalogue.state import TableRows

BATCH = 20_000


def batches(rows: Iterator[tuple[Any, ...]] | list[tuple[Any, ...]]) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, BATCH)):
        yield chunk


async def write_sqlite(conn: AsyncConnection, data: TableRows) -> None:
    statement = insert(data.table)
    for chunk in batches(data.rows):
        await conn.execute(statement, [dict(zip(data.columns, row, strict=True)) for row in chunk])


async def write_postgres(conn: AsyncConnection, data: TableRows) -> None:
    raw = await conn.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    json_columns = {index for index, name in enumerate(data.columns) if name in ("features",)}
    for chunk in batches(data.rows):
        if json_columns:
            import json

            chunk = [
                tuple(json.dumps(v) if i in json_columns else v for i, v in enumerate(row))
                for row in chunk
            ]
        await driver.copy_records_to_table(data.table.name, records=chunk, columns=data.columns)
