"""messages sent per second by all processes together

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 01:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_seconds",
        sa.Column("second", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("second", name=op.f("pk_send_seconds")),
    )


def downgrade() -> None:
    op.drop_table("send_seconds")
