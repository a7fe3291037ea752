"""members' names folded for search: lower case, without diacritics

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.parsing import normalize_search

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# Names are folded in Python (the same fold the search applies to what is typed), a
# batch at a time, so a large table is never held in memory at once.
_BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_name", sa.Text(), server_default="", nullable=False))
    connection = op.get_bind()
    table = sa.table(
        "members", sa.column("id", sa.BigInteger), sa.column("full_name", sa.String),
        sa.column("display_name", sa.String), sa.column("search_name", sa.Text),
    )  # fmt: skip
    fill = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"))
        .values(search_name=sa.bindparam("b_name"))
    )
    after = 0
    while True:
        rows = connection.execute(
            sa.select(table.c.id, table.c.full_name, table.c.display_name)
            .where(table.c.id > after)
            .order_by(table.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        folded = [{"b_id": row.id, "b_name": normalize_search(row.full_name or row.display_name
                                                              or "")} for row in rows]  # fmt: skip
        named = [value for value in folded if value["b_name"]]
        if named:
            connection.execute(fill, named)
        after = rows[-1].id


def downgrade() -> None:
    # Both engines drop a plain column in place (SQLite since 3.35): the batch way would
    # copy members into a new table, which the rows referring to them forbid.
    op.execute("ALTER TABLE members DROP COLUMN search_name")
