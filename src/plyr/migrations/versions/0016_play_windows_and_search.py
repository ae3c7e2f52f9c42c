"""play windows (top tracks) and search's ranking indexes

Top tracks (`plyr.listening.windows`): `play_windows` (where the day, week and month counts
start) and `track_window_plays` (per track, its plays at or after each edge), filled here
from the plays table and kept in step by triggers on `plays`, whoever writes them (the app,
a bulk load, a cascade). A play at or after a window's edge counts in it; with no edge row
the window counts every play. SQLite: row triggers. PostgreSQL: statement triggers with
transition tables (a COPY or a cascade of many plays is one grouped statement).

Search (`plyr.search`): what ranks candidates without reading the wide `tracks` rows.
SQLite: two covering indexes of the tracks, by id and by plays (the columns the ranking
reads). PostgreSQL: `search_track_docs`, one narrow row per published
track (lowercased title and artist name, plays, date) kept by a trigger on `tracks`, with
GIN trigram indexes and an index by plays; the GIN indexes on `tracks` itself (0008) go.
Both: `search_tag_tracks`, each tag's track_tags rows counted (kept by triggers on
`track_tags`), and `ix_search_tracks_unlisted`, the tracks listeners may not meet; a tag's
tracks in search are its count less those (few) tracks' rows, never a count of them all.
The names start with `search_` / `ix_search_`, so the models comparison leaves them out
(`plyr.search.schema`). A batch migration that rebuilds `tracks` on SQLite drops the
indexes with the table: it must create them again (tests/test_search.py checks they exist).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WINDOWS = {"day": 1, "week": 7, "month": 30}

# Edge of a window, or the beginning of time when it has none.
_SQLITE_EDGE = "coalesce((SELECT edge FROM play_windows WHERE name = '{window}'), '')"
_SQLITE_IN = " + ".join(f"(new.created_at >= {_SQLITE_EDGE.format(window=w)})" for w in WINDOWS)

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER play_windows_insert AFTER INSERT ON plays
       WHEN {_SQLITE_IN} > 0 BEGIN
         INSERT INTO track_window_plays (track_id, day, week, month) VALUES (
           new.track_id,
           {", ".join(f"new.created_at >= {_SQLITE_EDGE.format(window=w)}" for w in WINDOWS)})
         ON CONFLICT (track_id) DO UPDATE SET
           {", ".join(f"{w} = {w} + excluded.{w}" for w in WINDOWS)};
       END""",
    f"""CREATE TRIGGER play_windows_delete AFTER DELETE ON plays BEGIN
         UPDATE track_window_plays SET
           {", ".join(f"{w} = {w} - (old.created_at >= {_SQLITE_EDGE.format(window=w)})" for w in WINDOWS)}
         WHERE track_id = old.track_id;
       END""",
    f"""CREATE TRIGGER play_windows_update AFTER UPDATE OF track_id, created_at ON plays BEGIN
         UPDATE track_window_plays SET
           {", ".join(f"{w} = {w} - (old.created_at >= {_SQLITE_EDGE.format(window=w)})" for w in WINDOWS)}
         WHERE track_id = old.track_id;
         INSERT INTO track_window_plays (track_id, day, week, month) VALUES (
           new.track_id,
           {", ".join(f"new.created_at >= {_SQLITE_EDGE.format(window=w)}" for w in WINDOWS)})
         ON CONFLICT (track_id) DO UPDATE SET
           {", ".join(f"{w} = {w} + excluded.{w}" for w in WINDOWS)};
       END""",
]

_PG_EDGES = "\n".join(
    f"  {w}_edge timestamptz := coalesce("
    f"(SELECT edge FROM play_windows WHERE name = '{w}'), '-infinity');"
    for w in WINDOWS
)
_PG_COUNTS = ", ".join(
    f"count(*) FILTER (WHERE created_at >= {w}_edge)::integer AS {w}" for w in WINDOWS
)
_PG_OLDEST = "least(" + ", ".join(f"{w}_edge" for w in WINDOWS) + ")"

POSTGRES_FUNCTIONS = [
    f"""CREATE FUNCTION play_windows_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
{_PG_EDGES}
BEGIN
  INSERT INTO track_window_plays AS kept (track_id, day, week, month)
  SELECT track_id, {_PG_COUNTS} FROM added
  WHERE created_at >= {_PG_OLDEST} GROUP BY track_id
  ON CONFLICT (track_id) DO UPDATE SET
    {", ".join(f"{w} = kept.{w} + excluded.{w}" for w in WINDOWS)};
  RETURN NULL;
END $$""",
    f"""CREATE FUNCTION play_windows_removed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
{_PG_EDGES}
BEGIN
  UPDATE track_window_plays AS kept SET
    {", ".join(f"{w} = kept.{w} - gone.{w}" for w in WINDOWS)}
  FROM (SELECT track_id, {_PG_COUNTS} FROM removed
        WHERE created_at >= {_PG_OLDEST} GROUP BY track_id) AS gone
  WHERE kept.track_id = gone.track_id;
  RETURN NULL;
END $$""",
]

POSTGRES_TRIGGERS = [
    """CREATE TRIGGER play_windows_insert AFTER INSERT ON plays
       REFERENCING NEW TABLE AS added FOR EACH STATEMENT
       EXECUTE FUNCTION play_windows_added()""",
    """CREATE TRIGGER play_windows_delete AFTER DELETE ON plays
       REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
       EXECUTE FUNCTION play_windows_removed()""",
    # An update is the old rows removed, then the new ones added (two triggers, in name order).
    """CREATE TRIGGER play_windows_update_1 AFTER UPDATE ON plays
       REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
       EXECUTE FUNCTION play_windows_removed()""",
    """CREATE TRIGGER play_windows_update_2 AFTER UPDATE ON plays
       REFERENCING NEW TABLE AS added FOR EACH STATEMENT
       EXECUTE FUNCTION play_windows_added()""",
]


def _play_windows_upgrade(dialect: str) -> None:
    op.create_table(
        "play_windows",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("edge", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_play_windows")),
    )
    op.create_table(
        "track_window_plays",
        sa.Column(
            "track_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["track_id"],
            ["tracks.id"],
            name=op.f("fk_track_window_plays_track_id_tracks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("track_id", name=op.f("pk_track_window_plays")),
    )
    for window in WINDOWS:
        op.create_index(
            op.f(f"ix_track_window_plays_{window}"), "track_window_plays", [window], unique=False
        )
    # The counts as of now, from the plays table; then the triggers keep them.
    now = datetime.now(UTC)
    edges = {window: now - timedelta(days=days) for window, days in WINDOWS.items()}
    windows = sa.table(
        "play_windows", sa.column("name", sa.String()), sa.column("edge", sa.DateTime(True))
    )
    op.bulk_insert(windows, [{"name": name, "edge": edge} for name, edge in edges.items()])
    counted = ", ".join(
        f"sum(CASE WHEN created_at >= :{window} THEN 1 ELSE 0 END)" for window in WINDOWS
    )
    op.get_bind().execute(
        sa.text(
            f"INSERT INTO track_window_plays (track_id, day, week, month) "
            f"SELECT track_id, {counted} FROM plays WHERE created_at >= :month "
            f"GROUP BY track_id"
        ).bindparams(*(sa.bindparam(w, edges[w], type_=sa.DateTime(True)) for w in WINDOWS))
    )
    statements = SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRES_FUNCTIONS + POSTGRES_TRIGGERS
    for statement in statements:
        op.execute(statement)


def _play_windows_downgrade(dialect: str) -> None:
    if dialect == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS play_windows_{name}")
    else:
        for name in ("insert", "delete", "update_1", "update_2"):
            op.execute(f"DROP TRIGGER IF EXISTS play_windows_{name} ON plays")
        op.execute("DROP FUNCTION IF EXISTS play_windows_added()")
        op.execute("DROP FUNCTION IF EXISTS play_windows_removed()")
    for window in WINDOWS:
        op.drop_index(op.f(f"ix_track_window_plays_{window}"), table_name="track_window_plays")
    op.drop_table("track_window_plays")
    op.drop_table("play_windows")


# Not partial: SQLite 3.40 reads the table row to check a partial index's condition, and
# unpublished tracks (never in the FTS table, few, no plays) are left out when hits load.
SQLITE_SEARCH = [
    "CREATE INDEX ix_search_tracks_id ON tracks (id, play_count, created_at, title, artist_name)",
    """CREATE INDEX ix_search_tracks_plays
       ON tracks (play_count DESC, created_at DESC, id DESC, title, artist_name)""",
]
SQLITE_SEARCH_DOWN = [
    "DROP INDEX IF EXISTS ix_search_tracks_id",
    "DROP INDEX IF EXISTS ix_search_tracks_plays",
]

# Tracks listeners may not meet (`plyr.db.visibility.track_listed`, less hidden accounts):
# the partial index's condition, word for word in `plyr.search.loading`.
UNLISTED = "atproto_uri IS NULL OR audio_state <> 'ready' OR taken_down_at IS NOT NULL"

TAG_TRACKS = [
    """CREATE TABLE search_tag_tracks (
         tag_id {bigint} NOT NULL CONSTRAINT pk_search_tag_tracks PRIMARY KEY
           CONSTRAINT fk_search_tag_tracks_tag_id_tags REFERENCES tags (id) ON DELETE CASCADE,
         tracks integer NOT NULL
       )""",
    """INSERT INTO search_tag_tracks (tag_id, tracks)
       SELECT tag_id, count(*) FROM track_tags GROUP BY tag_id""",
    f"CREATE INDEX ix_search_tracks_unlisted ON tracks (id) WHERE {UNLISTED}",
]
TAG_TRACKS_DOWN = [
    "DROP INDEX IF EXISTS ix_search_tracks_unlisted",
    "DROP TABLE IF EXISTS search_tag_tracks",
]
_TAG_ADD = """INSERT INTO search_tag_tracks (tag_id, tracks) VALUES ({row}.tag_id, 1)
         ON CONFLICT (tag_id) DO UPDATE SET tracks = search_tag_tracks.tracks + 1"""
_TAG_REMOVE = "UPDATE search_tag_tracks SET tracks = tracks - 1 WHERE tag_id = {row}.tag_id"
SQLITE_TAG_TRIGGERS = [
    f"""CREATE TRIGGER search_tag_tracks_insert AFTER INSERT ON track_tags BEGIN
         {_TAG_ADD.format(row="new")};
       END""",
    f"""CREATE TRIGGER search_tag_tracks_delete AFTER DELETE ON track_tags BEGIN
         {_TAG_REMOVE.format(row="old")};
       END""",
    f"""CREATE TRIGGER search_tag_tracks_update AFTER UPDATE OF tag_id ON track_tags BEGIN
         {_TAG_REMOVE.format(row="old")};
         {_TAG_ADD.format(row="new")};
       END""",
]
POSTGRES_TAG_TRIGGERS = [
    f"""CREATE FUNCTION search_tag_tracks_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    {_TAG_REMOVE.format(row="old")};
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    {_TAG_ADD.format(row="new")};
  END IF;
  RETURN NULL;
END $$""",
    """CREATE TRIGGER search_tag_tracks_sync AFTER INSERT OR DELETE OR UPDATE OF tag_id
       ON track_tags FOR EACH ROW EXECUTE FUNCTION search_tag_tracks_sync()""",
]
POSTGRES_TAG_TRIGGERS_DOWN = [
    "DROP TRIGGER IF EXISTS search_tag_tracks_sync ON track_tags",
    "DROP FUNCTION IF EXISTS search_tag_tracks_sync()",
]
SQLITE_TAG_TRIGGERS_DOWN = [
    f"DROP TRIGGER IF EXISTS search_tag_tracks_{event}" for event in ("insert", "delete", "update")
]

POSTGRES_SEARCH = [
    """CREATE TABLE search_track_docs (
         id bigint NOT NULL CONSTRAINT pk_search_track_docs PRIMARY KEY
           CONSTRAINT fk_search_track_docs_id_tracks REFERENCES tracks (id) ON DELETE CASCADE,
         title text NOT NULL,
         artist_name text NOT NULL,
         play_count bigint NOT NULL,
         created_at timestamptz NOT NULL
       ) WITH (fillfactor = 90)""",
    """INSERT INTO search_track_docs (id, title, artist_name, play_count, created_at)
       SELECT id, lower(title), lower(artist_name), play_count, created_at
       FROM tracks WHERE atproto_uri IS NOT NULL""",
    "CREATE INDEX ix_search_track_docs_title ON search_track_docs USING gin (title gin_trgm_ops)",
    """CREATE INDEX ix_search_track_docs_artist_name
       ON search_track_docs USING gin (artist_name gin_trgm_ops)""",
    """CREATE INDEX ix_search_track_docs_plays
       ON search_track_docs (play_count DESC, created_at DESC, id DESC)""",
    """CREATE FUNCTION search_track_docs_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF new.atproto_uri IS NULL THEN
    DELETE FROM search_track_docs WHERE id = new.id;
  ELSE
    INSERT INTO search_track_docs AS doc (id, title, artist_name, play_count, created_at)
    VALUES (new.id, lower(new.title), lower(new.artist_name), new.play_count, new.created_at)
    ON CONFLICT (id) DO UPDATE SET
      title = excluded.title, artist_name = excluded.artist_name,
      play_count = excluded.play_count, created_at = excluded.created_at
    WHERE (doc.title, doc.artist_name, doc.play_count, doc.created_at)
      IS DISTINCT FROM (excluded.title, excluded.artist_name, excluded.play_count,
                        excluded.created_at);
  END IF;
  RETURN NULL;
END $$""",
    """CREATE TRIGGER search_track_docs_sync
       AFTER INSERT OR UPDATE OF title, artist_name, atproto_uri, play_count, created_at
       ON tracks FOR EACH ROW EXECUTE FUNCTION search_track_docs_sync()""",
    "DROP INDEX IF EXISTS ix_search_tracks_title",
    "DROP INDEX IF EXISTS ix_search_tracks_artist_name",
]
POSTGRES_SEARCH_DOWN = [
    "DROP TRIGGER IF EXISTS search_track_docs_sync ON tracks",
    "DROP FUNCTION IF EXISTS search_track_docs_sync()",
    "DROP TABLE IF EXISTS search_track_docs",
    # 0008's indexes, as it made them
    """CREATE INDEX ix_search_tracks_title ON tracks USING gin (lower(title) gin_trgm_ops)
       WHERE atproto_uri IS NOT NULL""",
    """CREATE INDEX ix_search_tracks_artist_name
       ON tracks USING gin (lower(artist_name) gin_trgm_ops) WHERE atproto_uri IS NOT NULL""",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _play_windows_upgrade(dialect)
    sqlite = dialect == "sqlite"
    for statement in SQLITE_SEARCH if sqlite else POSTGRES_SEARCH:
        op.execute(statement)
    for statement in TAG_TRACKS:
        op.execute(statement.format(bigint="INTEGER" if sqlite else "bigint"))
    for statement in SQLITE_TAG_TRIGGERS if sqlite else POSTGRES_TAG_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    sqlite = dialect == "sqlite"
    for statement in SQLITE_TAG_TRIGGERS_DOWN if sqlite else POSTGRES_TAG_TRIGGERS_DOWN:
        op.execute(statement)
    for statement in TAG_TRACKS_DOWN:
        op.execute(statement)
    for statement in SQLITE_SEARCH_DOWN if sqlite else POSTGRES_SEARCH_DOWN:
        op.execute(statement)
    _play_windows_downgrade(dialect)
