"""record revisions: the repo revision behind each indexed record version

Likes, comments, lists and profiles remember the revision (`rev`, a TID) of the commit
that wrote the version they hold. The firehose delivers plyr's own writes back, sometimes
after plyr has written a newer version; an event from an older commit is then skipped
instead of overwriting the row (an album's first, empty write emptied the album).

A plain ADD COLUMN, not a batch operation: rebuilding `lists` on SQLite would drop the
search triggers of 0008.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("likes", "comments", "lists", "profiles")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("atproto_rev", sa.String(length=32), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        # SQLite 3.35+ drops a plain column in place (the triggers of `lists` stay).
        op.execute(f"ALTER TABLE {table} DROP COLUMN atproto_rev")
