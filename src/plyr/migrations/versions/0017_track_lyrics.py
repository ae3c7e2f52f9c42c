"""track lyrics: the record's `lyrics` object on the track row

`tracks.lyrics` (JSON, nullable): `{"plain", "synced", "lang"}` as `plyr.tracks.lyrics`
keeps it. A plain ADD COLUMN on both databases: no batch rebuild of `tracks` on SQLite,
so search's indexes (0016) stay.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tracks", sa.Column("lyrics", sa.JSON(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch rebuild would drop 0016's indexes.
    op.drop_column("tracks", "lyrics")
