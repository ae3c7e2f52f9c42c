"""The benchmark's databases: a SQLite file or a PostgreSQL database named by a URL.

`catalogue.py` makes them (`prepare_target`), `read_paths.py` checks whether one is there
(`exists`) and drops the ones it generated itself (`remove`).
"""

from __future__ import annotations

from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from plyr.config import normalise_database_url


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def prepare_sqlite(target: str, replace: bool) -> str:
    path = Path(target).resolve()
    if path.exists():
        if not replace:
            raise SystemExit(f"{path} exists; pass --replace to start again")
        remove_sqlite(path)
    return f"sqlite+aiosqlite:///{path}"


async def prepare_target(target: str, replace: bool) -> str:
    """The database URL for the target; makes or empties the database as asked."""
    if "://" not in target:
        return prepare_sqlite(target, replace)
    url = make_url(normalise_database_url(target))
    name = url.database
    admin = url.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and replace:
            await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if exists:
            raise SystemExit(f"database {name} exists; pass --replace to start again")
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.render_as_string(hide_password=False)


def sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    return Path(parsed.database or "") if parsed.get_backend_name() == "sqlite" else None


async def exists(url: str) -> bool:
    parsed = make_url(url)
    path = sqlite_file(url)
    if path is not None:
        return path.exists()
    admin = parsed.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        return bool(
            await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", parsed.database)
        )
    finally:
        await conn.close()


async def remove(url: str) -> None:
    parsed = make_url(url)
    path = sqlite_file(url)
    if path is not None:
        remove_sqlite(path)
        return
    admin = parsed.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    finally:
        await conn.close()
