"""personal data: members' consent to the privacy notice and its record, erasures
recorded without personal data, and the notice before an old draft is deleted

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _moment(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, storage.models.UtcDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # Members from before have no consent on record: they are asked at their next message.
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_version", sa.String(length=32), nullable=True))
        batch_op.add_column(_moment("erased_at", nullable=True))
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.add_column(_moment("retention_notice_at", nullable=True))
    op.create_table(
        "consents",
        sa.Column("id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("stated_by_id", _ID, nullable=True),
        _moment("at"),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_consents_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["stated_by_id"], ["members.id"], name=op.f("fk_consents_stated_by_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index(op.f("ix_consents_member_id"), "consents", ["member_id"])
    op.create_table(
        "erasures",
        sa.Column("id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("requested_by", sa.String(length=16), nullable=False),
        _moment("at"),
        sa.Column("drafts_deleted", sa.Integer(), nullable=False),
        sa.Column("initiatives_kept", sa.Integer(), nullable=False),
        sa.Column("texts_removed", sa.Integer(), nullable=False),
        sa.Column("files_removed", sa.Integer(), nullable=False),
        sa.Column("messages_cancelled", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_erasures_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
    )
    op.create_index(op.f("ix_erasures_member_id"), "erasures", ["member_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_erasures_member_id"), table_name="erasures")
    op.drop_table("erasures")
    op.drop_index(op.f("ix_consents_member_id"), table_name="consents")
    op.drop_table("consents")
    # Both engines drop a plain column in place (SQLite since 3.35): the batch way would
    # copy the table into a new one, which the rows referring to it forbid.
    op.execute("ALTER TABLE initiatives DROP COLUMN retention_notice_at")
    op.execute("ALTER TABLE members DROP COLUMN erased_at")
    op.execute("ALTER TABLE members DROP COLUMN consent_version")
