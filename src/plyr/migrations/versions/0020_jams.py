"""jams: listening together (`jams`, `jam_members`)

A jam's state lives in the database so that every web process answers for it; `version`
goes up with each change, which is how the other processes notice one.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jams",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("host_did", sa.String(length=2048), nullable=False),
        sa.Column("track_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("position_ms", sa.BigInteger(), nullable=False),
        sa.Column("anchor_ms", sa.BigInteger(), nullable=False),
        sa.Column("playing", sa.Boolean(), nullable=False),
        sa.Column("queue", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["host_did"], ["artists.did"], name=op.f("fk_jams_host_did_artists"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["track_id"], ["tracks.id"], name=op.f("fk_jams_track_id_tracks"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_jams")),
    )
    with op.batch_alter_table("jams", schema=None) as batch_op:
        batch_op.create_index("ix_jams_host_did", ["host_did"], unique=False)
    op.create_table(
        "jam_members",
        sa.Column("jam_code", sa.String(length=32), nullable=False),
        sa.Column("did", sa.String(length=2048), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["did"], ["artists.did"], name=op.f("fk_jam_members_did_artists"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["jam_code"],
            ["jams.code"],
            name=op.f("fk_jam_members_jam_code_jams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("jam_code", "did", name=op.f("pk_jam_members")),
    )
    with op.batch_alter_table("jam_members", schema=None) as batch_op:
        batch_op.create_index("ix_jam_members_did", ["did"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jam_members", schema=None) as batch_op:
        batch_op.drop_index("ix_jam_members_did")
    op.drop_table("jam_members")
    with op.batch_alter_table("jams", schema=None) as batch_op:
        batch_op.drop_index("ix_jams_host_did")
    op.drop_table("jams")
