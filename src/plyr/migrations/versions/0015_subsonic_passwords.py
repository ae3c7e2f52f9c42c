"""subsonic_passwords: one sealed Subsonic app password per user

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subsonic_passwords",
        sa.Column("did", sa.String(length=2048), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["did"],
            ["artists.did"],
            name=op.f("fk_subsonic_passwords_did_artists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("did", name=op.f("pk_subsonic_passwords")),
    )


def downgrade() -> None:
    op.drop_table("subsonic_passwords")
