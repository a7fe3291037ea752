"""the delivery queue keeps what the core said, and each row its recipient's channel

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

WAITING = "('queued', 'sending')"


def upgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("message", sa.JSON(), nullable=True))
    with op.batch_alter_table("outgoing") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("edit_message_id", sa.BigInteger(), nullable=True))
    # Until now only Telegram's members and chats got rows: every row there is Telegram's.
    op.execute("UPDATE outgoing SET channel = 'telegram'")
    with op.batch_alter_table("outgoing") as batch:
        batch.alter_column("channel", existing_type=sa.String(length=16), nullable=False)
        batch.drop_index("ix_outgoing_state_urgent")
        batch.create_index("ix_outgoing_state_channel_urgent", ["state", "channel", "urgent", "id"])


def downgrade() -> None:
    # The older code sends everything as Telegram's and can send neither an untranslated
    # message nor an edit: such rows still waiting are stopped rather than sent wrong.
    op.execute(
        "UPDATE outgoing SET state = 'cancelled', error = 'downgraded' "
        f"WHERE state IN {WAITING} AND (channel <> 'telegram' OR edit_message_id IS NOT NULL "
        "OR broadcast_id IN (SELECT id FROM broadcasts WHERE message IS NOT NULL))"
    )
    with op.batch_alter_table("outgoing") as batch:
        batch.drop_index("ix_outgoing_state_channel_urgent")
        batch.create_index("ix_outgoing_state_urgent", ["state", "urgent", "id"])
        batch.drop_column("edit_message_id")
        batch.drop_column("channel")
    # Natively (SQLite 3.35+): rebuilding the table would break the queue's references to it.
    op.drop_column("broadcasts", "message")
