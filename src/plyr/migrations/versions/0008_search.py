"""search: FTS5 trigram tables (SQLite) and pg_trgm GIN indexes (PostgreSQL)

Written by hand: autogenerate knows neither. The objects are named `search_*` (SQLite
tables and triggers) and `ix_search_*` (PostgreSQL indexes) so env.py can keep them out of
the models ↔ database comparison (`plyr.search.schema.is_search_object`).

SQLite: one FTS5 table per searchable kind with `tokenize='trigram'`, holding its own copy
of the searched text (not external content: deletes then need only the row id, and the
artists table has no stable integer key). Triggers on the source tables keep the copies in
step; a batch migration that rebuilds one of those tables drops its triggers, so such a
migration must create them again (tests/test_search.py fails if it does not).

PostgreSQL: pg_trgm (a trusted extension since PostgreSQL 13: the database owner may
create it) and GIN `gin_trgm_ops` indexes on the lowercased columns the search queries
compare (`plyr/search/postgres.py`), so `%`, `<%` and `LIKE '%…%'` use them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UPGRADE = [
    # --- tracks: published ones only (rowid = tracks.id) --------------------------------
    "CREATE VIRTUAL TABLE search_tracks USING fts5(title, artist_name, tokenize='trigram')",
    """CREATE TRIGGER search_tracks_insert AFTER INSERT ON tracks
       WHEN new.atproto_uri IS NOT NULL BEGIN
         INSERT INTO search_tracks(rowid, title, artist_name)
         VALUES (new.id, new.title, new.artist_name);
       END""",
    """CREATE TRIGGER search_tracks_update AFTER UPDATE OF title, artist_name, atproto_uri
       ON tracks BEGIN
         DELETE FROM search_tracks WHERE rowid = old.id;
         INSERT INTO search_tracks(rowid, title, artist_name)
         SELECT new.id, new.title, new.artist_name WHERE new.atproto_uri IS NOT NULL;
       END""",
    """CREATE TRIGGER search_tracks_delete AFTER DELETE ON tracks BEGIN
         DELETE FROM search_tracks WHERE rowid = old.id;
       END""",
    """INSERT INTO search_tracks(rowid, title, artist_name)
       SELECT id, title, artist_name FROM tracks WHERE atproto_uri IS NOT NULL""",
    # --- artists: handle and display name (the DID kept beside them) --------------------
    """CREATE VIRTUAL TABLE search_artists
       USING fts5(did UNINDEXED, handle, display_name, tokenize='trigram')""",
    """CREATE TRIGGER search_artists_insert AFTER INSERT ON artists BEGIN
         INSERT INTO search_artists(did, handle, display_name)
         VALUES (new.did, new.handle, new.display_name);
       END""",
    """CREATE TRIGGER search_artists_update AFTER UPDATE OF did, handle, display_name
       ON artists BEGIN
         DELETE FROM search_artists WHERE did = old.did;
         INSERT INTO search_artists(did, handle, display_name)
         VALUES (new.did, new.handle, new.display_name);
       END""",
    """CREATE TRIGGER search_artists_delete AFTER DELETE ON artists BEGIN
         DELETE FROM search_artists WHERE did = old.did;
       END""",
    """INSERT INTO search_artists(did, handle, display_name)
       SELECT did, handle, display_name FROM artists""",
    # --- albums and playlists with a name (rowid = lists.id) ----------------------------
    """CREATE VIRTUAL TABLE search_lists
       USING fts5(list_type UNINDEXED, name, tokenize='trigram')""",
    """CREATE TRIGGER search_lists_insert AFTER INSERT ON lists
       WHEN new.list_type IN ('album', 'playlist') AND new.name IS NOT NULL BEGIN
         INSERT INTO search_lists(rowid, list_type, name)
         VALUES (new.id, new.list_type, new.name);
       END""",
    """CREATE TRIGGER search_lists_update AFTER UPDATE OF list_type, name ON lists BEGIN
         DELETE FROM search_lists WHERE rowid = old.id;
         INSERT INTO search_lists(rowid, list_type, name)
         SELECT new.id, new.list_type, new.name
         WHERE new.list_type IN ('album', 'playlist') AND new.name IS NOT NULL;
       END""",
    """CREATE TRIGGER search_lists_delete AFTER DELETE ON lists BEGIN
         DELETE FROM search_lists WHERE rowid = old.id;
       END""",
    """INSERT INTO search_lists(rowid, list_type, name)
       SELECT id, list_type, name FROM lists
       WHERE list_type IN ('album', 'playlist') AND name IS NOT NULL""",
    # --- tags (rowid = tags.id) ----------------------------------------------------------
    "CREATE VIRTUAL TABLE search_tags USING fts5(name, tokenize='trigram')",
    """CREATE TRIGGER search_tags_insert AFTER INSERT ON tags BEGIN
         INSERT INTO search_tags(rowid, name) VALUES (new.id, new.name);
       END""",
    """CREATE TRIGGER search_tags_update AFTER UPDATE OF name ON tags BEGIN
         DELETE FROM search_tags WHERE rowid = old.id;
         INSERT INTO search_tags(rowid, name) VALUES (new.id, new.name);
       END""",
    """CREATE TRIGGER search_tags_delete AFTER DELETE ON tags BEGIN
         DELETE FROM search_tags WHERE rowid = old.id;
       END""",
    "INSERT INTO search_tags(rowid, name) SELECT id, name FROM tags",
]

SQLITE_DOWNGRADE = [
    *(
        f"DROP TRIGGER IF EXISTS search_{kind}_{event}"
        for kind in ("tracks", "artists", "lists", "tags")
        for event in ("insert", "update", "delete")
    ),
    *(f"DROP TABLE IF EXISTS search_{kind}" for kind in ("tracks", "artists", "lists", "tags")),
]

# (index name, table, lowercased column, partial-index condition); the search queries repeat
# the conditions word for word (as literals) so the planner can use the partial indexes.
POSTGRES_INDEXES = [
    ("ix_search_tracks_title", "tracks", "title", "atproto_uri IS NOT NULL"),
    ("ix_search_tracks_artist_name", "tracks", "artist_name", "atproto_uri IS NOT NULL"),
    ("ix_search_artists_handle", "artists", "handle", None),
    ("ix_search_artists_display_name", "artists", "display_name", None),
    ("ix_search_lists_name", "lists", "name", "list_type IN ('album', 'playlist')"),
    ("ix_search_tags_name", "tags", "name", None),
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UPGRADE:
            op.execute(statement)
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column, where in POSTGRES_INDEXES:
        condition = f" WHERE {where}" if where else ""
        op.execute(
            f"CREATE INDEX {name} ON {table} USING gin (lower({column}) gin_trgm_ops){condition}"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWNGRADE:
            op.execute(statement)
        return
    for name, _table, _column, _where in POSTGRES_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    # pg_trgm stays: other schemas or tools of the database may use it, and dropping an
    # extension may need more rights than creating a trusted one did.
