"""messages sent as paid broadcasts per day, for the daily cap in Stars

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paid_send_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_paid_send_days")),
    )


def downgrade() -> None:
    op.drop_table("paid_send_days")
