"""recorded answers and benefit ranges

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("answer", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("duration", sa.Integer(), nullable=True))
    with op.batch_alter_table("initiatives") as batch:
        batch.add_column(sa.Column("benefit_range", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("initiatives") as batch:
        batch.drop_column("benefit_range")
    with op.batch_alter_table("attachments") as batch:
        batch.drop_column("duration")
        batch.drop_column("answer")
