"""the review queue's partial indexes of pending initiatives, and a subtree's units read
from an index alone

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# As storage/models.py words it: a query uses the index when it repeats these words.
PENDING = "status = 'pending'"
INDEXES = {
    "ix_initiatives_pending_submitted": ["status", "submitted_at", "id", "unit_id", "kind",
                                         "field"],
    "ix_initiatives_pending_kind": ["status", "kind", "field", "submitted_at", "id", "unit_id"],
    "ix_initiatives_pending_unit": ["unit_id", "status", "submitted_at", "id", "kind", "field"],
}  # fmt: skip


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "initiatives", columns, sqlite_where=sa.text(PENDING),
                        postgresql_where=sa.text(PENDING))  # fmt: skip
    op.create_index("ix_unit_ancestors_ancestor_unit", "unit_ancestors", ["ancestor_id", "unit_id"])
    op.drop_index("ix_unit_ancestors_ancestor_id", table_name="unit_ancestors")


def downgrade() -> None:
    op.create_index("ix_unit_ancestors_ancestor_id", "unit_ancestors", ["ancestor_id"])
    op.drop_index("ix_unit_ancestors_ancestor_unit", table_name="unit_ancestors")
    for name in reversed(INDEXES):
        op.drop_index(name, table_name="initiatives")
