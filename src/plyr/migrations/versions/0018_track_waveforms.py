"""track waveforms: the storage key of a track's peaks

`tracks.waveform_key` (nullable): the content-addressed object (`waveforms/ab/<sha256>.json`)
`plyr.tracks.waveforms` stores beside the audio. Tracks from before it get theirs from the
`track.waveform` backfill. A plain ADD COLUMN on both databases, as 0017: no batch rebuild
of `tracks` on SQLite, so search's indexes (0016) stay.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("tracks", sa.Column("waveform_key", sa.String(length=512), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch rebuild would drop 0016's indexes.
    op.drop_column("tracks", "waveform_key")
