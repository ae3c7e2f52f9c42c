"""Names of the database objects search adds outside the models (migration 0008).

They are not in `plyr.db.models` (SQLAlchemy cannot describe FTS5 virtual tables or
trigram expression indexes), so the models ↔ database comparison must not see them:
env.py passes `include_name` to Alembic, and so should any other comparison.
"""

from __future__ import annotations

from typing import Any

# SQLite: search_tracks, search_artists, search_lists, search_tags and FTS5's shadow tables
# (search_tracks_data, _idx, _content, _docsize, _config); triggers are named search_* too.
SQLITE_TABLE_PREFIX = "search_"
# PostgreSQL: GIN trigram indexes on lower(column).
POSTGRES_INDEX_PREFIX = "ix_search_"


def is_search_object(name: str | None, type_: str) -> bool:
    if name is None:
        return False
    if type_ == "table":
        return name.startswith(SQLITE_TABLE_PREFIX)
    if type_ == "index":
        return name.startswith(POSTGRES_INDEX_PREFIX)
    return False


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's `include_name` hook: everything but search's own objects."""
    return not is_search_object(name, type_)
