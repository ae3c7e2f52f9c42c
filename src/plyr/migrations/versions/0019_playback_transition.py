"""playback transition: `preferences.transition` and `preferences.crossfade_seconds`

How the web player goes from one track to the next: `off` (the next starts when one has
ended), `gapless` (it follows with no gap) or `crossfade` (over `crossfade_seconds`, 1-12).
Plain ADD COLUMNs with server defaults, so existing rows read as `off` / 6.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "preferences",
        sa.Column("transition", sa.String(length=10), nullable=False, server_default="off"),
    )
    op.add_column(
        "preferences",
        sa.Column(
            "crossfade_seconds", sa.SmallInteger(), nullable=False, server_default=sa.text("6")
        ),
    )


def downgrade() -> None:
    op.drop_column("preferences", "crossfade_seconds")
    op.drop_column("preferences", "transition")
