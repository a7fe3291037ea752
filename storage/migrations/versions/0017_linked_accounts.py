"""a member's channel accounts as identities, and one-time codes to link them

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "identities",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("created_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_identities_member_id_members")
        ),
        sa.PrimaryKeyConstraint("channel", "external_id", name=op.f("pk_identities")),
    )
    op.create_index(op.f("ix_identities_member_id"), "identities", ["member_id"])
    # Every member so far has the one account they joined with.
    op.execute(
        "INSERT INTO identities (channel, external_id, member_id, created_at) "
        "SELECT channel, external_id, id, created_at FROM members"
    )
    op.create_table(
        "link_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("expires_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_link_codes_member_id_members")
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_link_codes")),
    )
    op.create_index(op.f("ix_link_codes_member_id"), "link_codes", ["member_id"])
    op.create_table(
        "link_attempts",
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("since", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_link_attempts_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_link_attempts")),
    )


def downgrade() -> None:
    op.drop_table("link_attempts")
    op.drop_index(op.f("ix_link_codes_member_id"), table_name="link_codes")
    op.drop_table("link_codes")
    op.drop_index(op.f("ix_identities_member_id"), table_name="identities")
    op.drop_table("identities")
