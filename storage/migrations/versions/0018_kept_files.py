"""files the bot keeps itself: Zalo photos and voice notes, drawn pictures to serve

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kept_files",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_kept_files")),
    )
    op.create_index(op.f("ix_kept_files_expires_at"), "kept_files", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_kept_files_expires_at"), table_name="kept_files")
    op.drop_table("kept_files")
