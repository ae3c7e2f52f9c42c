"""likes: an index on (did, created_at) for a listener's likes newest first

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 05:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_likes_did_created_at", "likes", ["did", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_likes_did_created_at", table_name="likes")
