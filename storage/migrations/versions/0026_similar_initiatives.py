"""similar initiatives: titles and solutions folded for matching, a trigram index on them
(PostgreSQL: pg_trgm GIN; SQLite: an FTS5 trigram table kept by triggers), and the
matches found at each submission

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from domain.similarity import fold_solution, fold_title

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Folded in Python (the same fold the matching applies to what is typed), a batch at a
# time, so a large table is never held in memory at once.
_BATCH = 5000
# Only what was sent and is not turned down is ever found.
_FOUND = ("pending", "returned", "approved")
FTS = "initiatives_similar_fts"
_INDEXED = "{row}.similar_title <> '' OR {row}.similar_solution <> ''"

# The FTS5 table reads the texts from initiatives (external content); the triggers keep
# its index in step with every change of the folded columns, in the same transaction.
# (A later migration that rebuilds initiatives the batch way must make them again.)
_SQLITE = (
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(similar_title, similar_solution, "
    "content='initiatives', content_rowid='id', tokenize='trigram')",
    f"INSERT INTO {FTS}(rowid, similar_title, similar_solution) SELECT id, similar_title, "
    f"similar_solution FROM initiatives WHERE {_INDEXED.format(row='initiatives')}",
    f"CREATE TRIGGER {FTS}_insert AFTER INSERT ON initiatives "
    f"WHEN {_INDEXED.format(row='new')} BEGIN "
    f"INSERT INTO {FTS}(rowid, similar_title, similar_solution) "
    "VALUES (new.id, new.similar_title, new.similar_solution); END",
    f"CREATE TRIGGER {FTS}_delete AFTER DELETE ON initiatives "
    f"WHEN {_INDEXED.format(row='old')} BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, similar_title, similar_solution) "
    "VALUES ('delete', old.id, old.similar_title, old.similar_solution); END",
    f"CREATE TRIGGER {FTS}_update AFTER UPDATE OF similar_title, similar_solution "
    "ON initiatives WHEN old.similar_title IS NOT new.similar_title "
    "OR old.similar_solution IS NOT new.similar_solution BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, similar_title, similar_solution) "
    "SELECT 'delete', old.id, old.similar_title, old.similar_solution "
    f"WHERE {_INDEXED.format(row='old')}; "
    f"INSERT INTO {FTS}(rowid, similar_title, similar_solution) "
    "SELECT new.id, new.similar_title, new.similar_solution "
    f"WHERE {_INDEXED.format(row='new')}; END",
)
_POSTGRES = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_initiatives_similar_title_trgm ON initiatives "
    "USING gin (similar_title gin_trgm_ops) WHERE similar_title <> ''",
    "CREATE INDEX ix_initiatives_similar_solution_trgm ON initiatives "
    "USING gin (similar_solution gin_trgm_ops) WHERE similar_solution <> ''",
)


def _backfill() -> None:
    """Fold the texts of what was sent and is not turned down."""
    connection = op.get_bind()
    table = sa.table(
        "initiatives", sa.column("id", sa.BigInteger), sa.column("status", sa.String),
        sa.column("title", sa.String), sa.column("solution", sa.Text),
        sa.column("similar_title", sa.Text), sa.column("similar_solution", sa.Text),
    )  # fmt: skip
    fill = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"))
        .values(similar_title=sa.bindparam("b_title"), similar_solution=sa.bindparam("b_solution"))
    )
    after = 0
    while True:
        rows = connection.execute(
            sa.select(table.c.id, table.c.title, table.c.solution)
            .where(table.c.id > after, table.c.status.in_(_FOUND))
            .order_by(table.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        connection.execute(fill, [{"b_id": row.id, "b_title": fold_title(row.title),
                                   "b_solution": fold_solution(row.solution)}
                                  for row in rows])  # fmt: skip
        after = rows[-1].id


def _require_fts5() -> None:
    """SQLite without FTS5 cannot keep the index: say so rather than fail later."""
    try:
        op.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x, tokenize='trigram')")
        op.execute("DROP TABLE temp.fts5_probe")
    except sa.exc.OperationalError as error:
        raise RuntimeError(
            "This SQLite lacks FTS5 with the trigram tokenizer (SQLite 3.34 or later, as "
            "Python 3.11 ships): similar initiatives cannot be indexed."
        ) from error


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _require_fts5()
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.add_column(sa.Column("similar_title", sa.Text(), server_default="",
                                      nullable=False))  # fmt: skip
        batch_op.add_column(sa.Column("similar_solution", sa.Text(), server_default="",
                                      nullable=False))  # fmt: skip
    _backfill()
    for statement in _SQLITE if sqlite else _POSTGRES:
        op.execute(statement)
    findable = sa.text("similar_title <> ''")
    op.create_index(
        "ix_initiatives_similar_unit", "initiatives", ["unit_id", "similar_title"],
        sqlite_where=findable, postgresql_where=findable, postgresql_include=["id"],
    )  # fmt: skip
    op.create_table(
        "initiative_similars",
        sa.Column("initiative_id", _ID, nullable=False),
        sa.Column("similar_id", _ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"], ["initiatives.id"],
            name=op.f("fk_initiative_similars_initiative_id_initiatives"),
        ),
        sa.ForeignKeyConstraint(
            ["similar_id"], ["initiatives.id"],
            name=op.f("fk_initiative_similars_similar_id_initiatives"),
        ),
        sa.PrimaryKeyConstraint("initiative_id", "similar_id", name=op.f("pk_initiative_similars")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_initiative_similars_similar_id"), "initiative_similars", ["similar_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_initiatives_similar_unit", table_name="initiatives")
    op.drop_index(op.f("ix_initiative_similars_similar_id"), table_name="initiative_similars")
    op.drop_table("initiative_similars")
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {FTS}_{trigger}")
        op.execute(f"DROP TABLE IF EXISTS {FTS}")
    else:
        # pg_trgm stays: other objects may have come to use it.
        op.execute("DROP INDEX IF EXISTS ix_initiatives_similar_solution_trgm")
        op.execute("DROP INDEX IF EXISTS ix_initiatives_similar_title_trgm")
    # Both engines drop a plain column in place (SQLite since 3.35): the batch way would
    # copy the table into a new one, which the rows referring to it forbid.
    op.execute("ALTER TABLE initiatives DROP COLUMN similar_solution")
    op.execute("ALTER TABLE initiatives DROP COLUMN similar_title")
