"""read path indexes

Found with bench/read_paths.py on a catalogue of 100 000 tracks and 1 000 000 plays
(bench/catalogue.py):

- an artist's published tracks, newest first: with only (artist_did, created_at) and
  (publish_state, created_at), SQLite (no ANALYZE statistics) walks every published track
  newest first and filters on the artist; (artist_did, publish_state, created_at) answers
  the artist page and its `?before=` pages from one index range.
- plays in a time window (top tracks for a day/week/month): (created_at, track_id) is one
  index-only range scan instead of a scan of every play (PostgreSQL) or a probe of the
  plays of every published track (SQLite).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain CREATE INDEX, not a batch operation: rebuilding tracks on SQLite would drop the
    # search triggers of 0008.
    op.create_index(
        "ix_tracks_artist_did_publish_state_created_at",
        "tracks",
        ["artist_did", "publish_state", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_plays_created_at_track_id", "plays", ["created_at", "track_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_plays_created_at_track_id", table_name="plays")
    op.drop_index("ix_tracks_artist_did_publish_state_created_at", table_name="tracks")
