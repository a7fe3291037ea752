"""initiatives' titles folded for search: lower case, without diacritics

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.parsing import normalize_search

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# Titles are folded in Python (the same fold the search applies to what is typed), a
# batch at a time, so a large table is never held in memory at once.
_BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), server_default="", nullable=False))
    connection = op.get_bind()
    table = sa.table(
        "initiatives", sa.column("id", sa.BigInteger), sa.column("title", sa.String),
        sa.column("search_text", sa.Text),
    )  # fmt: skip
    fill = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"))
        .values(search_text=sa.bindparam("b_text"))
    )
    after = 0
    while True:
        rows = connection.execute(
            sa.select(table.c.id, table.c.title)
            .where(table.c.id > after, table.c.title.is_not(None))
            .order_by(table.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        connection.execute(fill, [{"b_id": row.id, "b_text": normalize_search(row.title)}
                                  for row in rows])  # fmt: skip
        after = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.drop_column("search_text")
