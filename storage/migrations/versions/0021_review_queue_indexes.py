"""indexes for the review queue at national scale: pending oldest first, and pending
outside any phase

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_initiatives_status_submitted", "initiatives",
                    ["status", "submitted_at", "id"])  # fmt: skip
    op.create_index("ix_initiatives_status_phase", "initiatives", ["status", "phase_id"])


def downgrade() -> None:
    op.drop_index("ix_initiatives_status_phase", table_name="initiatives")
    op.drop_index("ix_initiatives_status_submitted", table_name="initiatives")
