"""ids never reused: AUTOINCREMENT on SQLite's integer keys

Without AUTOINCREMENT SQLite gives a new row the largest rowid + 1, so deleting the newest
track and uploading another handed out the deleted track's id: a saved queue, a link, a
listen token or a stat that held the old id then meant an unrelated track. With
AUTOINCREMENT an id is never handed out twice (sqlite_sequence remembers the largest).
PostgreSQL's sequences already never go back: nothing to do there.

SQLite cannot add AUTOINCREMENT to a table, so each table is rebuilt the documented way
(https://www.sqlite.org/lang_altertable.html#otheralter): create the new shape, copy the
rows, drop the old table, rename, then create its indexes and triggers again (search's
triggers of 0008 go with the old table). The definition is taken from sqlite_master, not
rebuilt from reflection, so every constraint, default and collation stays as it was. env.py
turns foreign keys off for the run (dropping `tracks` would otherwise cascade into likes,
comments and list entries) and checks them all before committing.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 12:00:00.000000
"""

import re
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table whose integer ids users or other rows hold (plyr.db.models.base.NEVER_REUSED).
TABLES = (
    "tracks",
    "tags",
    "likes",
    "comments",
    "lists",
    "list_items",
    "profiles",
    "sensitive_images",
    "jobs",
    "plays",
)


def _rebuilt_definition(table: str, sql: str, autoincrement: bool) -> str:
    """The CREATE TABLE of `_new_<table>`, its key declared with or without AUTOINCREMENT."""
    pk = f"pk_{table}"
    if autoincrement:
        column = re.compile(r"^(\s*id INTEGER NOT NULL),\s*$", re.M)
        table_key = re.compile(rf"^\s*CONSTRAINT {pk} PRIMARY KEY \(id\),?\s*\n", re.M)
        if not column.search(sql) or not table_key.search(sql):
            raise RuntimeError(f"0010: unexpected definition of {table}: {sql}")
        sql = table_key.sub("", sql, count=1)
        sql = column.sub(rf"\1 CONSTRAINT {pk} PRIMARY KEY AUTOINCREMENT,", sql, count=1)
        # The key was the last constraint: no comma may be left before the closing bracket.
        sql = re.sub(r",\s*\)\s*$", "\n)", sql.rstrip())
    else:
        column = re.compile(
            rf"^(\s*id INTEGER NOT NULL) CONSTRAINT {pk} PRIMARY KEY AUTOINCREMENT,", re.M
        )
        if not column.search(sql) or not sql.rstrip().endswith(")"):
            raise RuntimeError(f"0010: unexpected definition of {table}: {sql}")
        sql = column.sub(r"\1,", sql, count=1)
        # A table constraint comes after every column: put the key back last.
        sql = sql.rstrip()[:-1].rstrip() + f", \n\tCONSTRAINT {pk} PRIMARY KEY (id)\n)"
    head = re.compile(rf"^CREATE TABLE \"?{table}\"? \(")
    if not head.match(sql):
        raise RuntimeError(f"0010: unexpected definition of {table}: {sql}")
    return head.sub(f"CREATE TABLE _new_{table} (", sql, count=1)


def _rebuild(table: str, autoincrement: bool) -> None:
    bind = op.get_bind()
    sql = bind.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": table},
    ).scalar_one()
    # Indexes and triggers go with the dropped table: keep their definitions to make again.
    dependents = [
        row[0]
        for row in bind.execute(
            text(
                "SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
                "AND tbl_name = :name AND sql IS NOT NULL ORDER BY type, name"
            ),
            {"name": table},
        )
    ]
    op.execute(_rebuilt_definition(table, sql, autoincrement))
    op.execute(f"INSERT INTO _new_{table} SELECT * FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE _new_{table} RENAME TO {table}")
    for statement in dependents:
        op.execute(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        _rebuild(table, autoincrement=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        _rebuild(table, autoincrement=False)
