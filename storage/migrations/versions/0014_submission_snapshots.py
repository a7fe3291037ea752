"""a digest per field of each submitted version; where an announcement's progress shows

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submission_snapshots",
        sa.Column("initiative_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("digests", sa.JSON(), nullable=False),
        sa.Column("submitted_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"], ["initiatives.id"],
            name=op.f("fk_submission_snapshots_initiative_id_initiatives"),
        ),
        sa.PrimaryKeyConstraint("initiative_id", "version", name=op.f("pk_submission_snapshots")),
    )  # fmt: skip
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("progress_chat_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("progress_message_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("progress_message_id")
        batch.drop_column("progress_chat_id")
    op.drop_table("submission_snapshots")
