"""SQLAlchemy models; Alembic migrations in ``storage/migrations`` create them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL, but SQLite only makes INTEGER PRIMARY KEY an alias of its rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[dt.datetime]):
    """An aware datetime stored in UTC; SQLite would otherwise hand back naive values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Refuse naive datetimes and store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names for migrations."""

    metadata = MetaData(naming_convention=NAMING)


class UnitRow(Base):
    """A union unit in the tree."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # Lower-case, diacritics-free name and path of ancestors, for search.
    search_text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class MemberRow(Base):
    """A person talking to the bot through one channel."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    full_name: Mapped[str | None] = mapped_column(String(200))
    # The name shown (full, else display) folded for search; kept with every write of
    # a name, so erasing the name erases it here too.
    search_name: Mapped[str] = mapped_column(Text, server_default="")
    phone: Mapped[str | None] = mapped_column(String(32))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # Reminders and announcements the member agreed to; /settings turns them off.
    nudges: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Whether weekly commendations may name the member among the top contributors.
    named: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # False once the member blocked the bot: broadcasts skip them until they come back.
    reachable: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The version of the privacy notice the member last agreed to; None: not yet (members
    # from before consent was asked are asked at their next message).
    consent_version: Mapped[str | None] = mapped_column(String(32))
    # When the member's personal data was erased: the row stays, anonymous, for figures.
    erased_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class ConsentRow(Base):
    """A member's answer to a privacy notice, or a helper's statement that the member they
    entered agreed: the verifiable record the law asks for. Never changed or deleted."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    # The notice's version, and what was done: given, refused, withdrawn, or stated (by
    # the helper who entered the member).
    version: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    # The channel it was given on ("helper" for a helper's statement).
    channel: Mapped[str] = mapped_column(String(16))
    stated_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class ErasureRow(Base):
    """An erasure of a member's personal data, recorded without any: who asked (the
    member or the operator), when, and how much went."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    drafts_deleted: Mapped[int] = mapped_column(Integer, default=0)
    initiatives_kept: Mapped[int] = mapped_column(Integer, default=0)
    texts_removed: Mapped[int] = mapped_column(Integer, default=0)
    files_removed: Mapped[int] = mapped_column(Integer, default=0)
    messages_cancelled: Mapped[int] = mapped_column(Integer, default=0)


class ConversationRow(Base):
    """The dialog state of a member."""

    __tablename__ = "conversations"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("initiatives.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The numbered choices last shown on a channel without buttons.
    choices: Mapped[list[str] | None] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


# A partial index of pending initiatives; a query uses it when it repeats these words.
_PENDING_ONLY: dict[str, Any] = {
    "sqlite_where": text("status = 'pending'"),
    "postgresql_where": text("status = 'pending'"),
}


class InitiativeRow(Base):
    """An initiative, from draft to decision."""

    __tablename__ = "initiatives"
    __table_args__ = (
        Index("ix_initiatives_author_status", "author_id", "status"),
        Index("ix_initiatives_unit_status", "unit_id", "status"),
        # The review queue: what waits, oldest first; and what waits outside any phase.
        Index("ix_initiatives_status_submitted", "status", "submitted_at", "id"),
        Index("ix_initiatives_status_phase", "status", "phase_id"),
        # What waits, and only that (a sixth of the table), each holding what a page of the
        # queue checks, so it is read without the table: in order; by kind and field; by
        # unit (storage/repositories/waiting.py chooses). The status they all hold leads
        # too: so SQLite's planner, without statistics, prefers them to those above.
        Index("ix_initiatives_pending_submitted", "status", "submitted_at", "id", "unit_id",
              "kind", "field", **_PENDING_ONLY),
        Index("ix_initiatives_pending_kind", "status", "kind", "field", "submitted_at", "id",
              "unit_id", **_PENDING_ONLY),
        Index("ix_initiatives_pending_unit", "unit_id", "status", "submitted_at", "id", "kind",
              "field", **_PENDING_ONLY),
        # The folded titles of a scope's findable initiatives, read from the index alone
        # when similar initiatives are looked for (storage/repositories/similar.py).
        # (SQLite's indexes hold the id anyway.)
        Index("ix_initiatives_similar_unit", "unit_id", "similar_title",
              sqlite_where=text("similar_title <> ''"), postgresql_include=["id"],
              postgresql_where=text("similar_title <> ''")),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    status: Mapped[str] = mapped_column(String(16))
    step: Mapped[str] = mapped_column(String(16))
    editing: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str | None] = mapped_column(String(200))
    # The title folded (lower case, no diacritics), kept with every save, for search.
    search_text: Mapped[str] = mapped_column(Text, server_default="")
    # The title and the start of the solution folded for finding similar initiatives
    # (domain/similarity.py); empty unless pending, returned or approved.
    similar_title: Mapped[str] = mapped_column(Text, server_default="")
    similar_solution: Mapped[str] = mapped_column(Text, server_default="")
    kind: Mapped[str | None] = mapped_column(String(16))
    field: Mapped[str | None] = mapped_column(String(16))
    problem: Mapped[str | None] = mapped_column(Text)
    solution: Mapped[str | None] = mapped_column(Text)
    applied: Mapped[bool | None] = mapped_column(Boolean)
    applied_since: Mapped[dt.date | None] = mapped_column(Date)
    effect: Mapped[str | None] = mapped_column(Text)
    benefit_vnd: Mapped[int | None] = mapped_column(BigInteger)
    benefit_known: Mapped[bool | None] = mapped_column(Boolean)
    benefit_range: Mapped[str | None] = mapped_column(String(16))
    coauthors_done: Mapped[bool] = mapped_column(Boolean, default=False)
    confidential: Mapped[bool | None] = mapped_column(Boolean)
    confidential_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=0)
    # The phase of the first submission: the one in which the initiative counts.
    phase_id: Mapped[int | None] = mapped_column(ForeignKey("phases.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    # When the author was told that this draft, untouched for long, will be deleted.
    retention_notice_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())

    coauthors: Mapped[list[CoauthorRow]] = relationship(
        order_by="CoauthorRow.position", cascade="all, delete-orphan", lazy="selectin"
    )
    attachments: Mapped[list[AttachmentRow]] = relationship(
        order_by="AttachmentRow.position", cascade="all, delete-orphan", lazy="selectin"
    )


class CoauthorRow(Base):
    """A co-author of an initiative."""

    __tablename__ = "coauthors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    share: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))


class AttachmentRow(Base):
    """A photo or document of an initiative, kept by its channel file id."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    file_id: Mapped[str] = mapped_column(String(255))
    file_unique_id: Mapped[str] = mapped_column(String(64))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    file_name: Mapped[str | None] = mapped_column(String(255))
    mime_type: Mapped[str | None] = mapped_column(String(100))
    answer: Mapped[str | None] = mapped_column(String(16))
    duration: Mapped[int | None] = mapped_column(Integer)


class InitiativeEventRow(Base):
    """The record: every change of an initiative's status, never deleted."""

    __tablename__ = "initiative_events"
    # The week's approvals, for commendations.
    __table_args__ = (Index("ix_initiative_events_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    action: Mapped[str] = mapped_column(String(20))
    # The role the actor acted in: author, helper or admin.
    role: Mapped[str | None] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class ProcessedEventRow(Base):
    """Inbound events already handled, so a redelivered update changes nothing."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)


class RoleRow(Base):
    """A role held by a member for a unit and its subtree; revoked, never deleted."""

    __tablename__ = "roles"
    __table_args__ = (Index("ix_roles_unit_kind", "unit_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    kind: Mapped[str] = mapped_column(String(16))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    granted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class ReviewCardRow(Base):
    """A review card in a reviewer's chat, so that every copy shows the decision."""

    __tablename__ = "review_cards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    chat_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class ReminderRow(Base):
    """A reminder sent to a member, one of a kind a day, so a restart sends no second."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("member_id", "kind", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(32))
    day: Mapped[dt.date] = mapped_column(Date)
    sent_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class InviteRow(Base):
    """A one-time invitation link to a role; only the token's hash is kept."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class PhaseRow(Base):
    """A phase (giai đoạn) of the programme, with its dates and national target."""

    __tablename__ = "phases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    target: Mapped[int | None] = mapped_column(BigInteger)


class TargetRow(Base):
    """A unit's target (chỉ tiêu) for a phase."""

    __tablename__ = "targets"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"), primary_key=True)
    target: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class UnitAncestorRow(Base):
    """The closure of the unit tree: every unit with each unit above it, itself included."""

    __tablename__ = "unit_ancestors"
    # A subtree's units read from the index alone.
    __table_args__ = (Index("ix_unit_ancestors_ancestor_unit", "ancestor_id", "unit_id"),)

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    ancestor_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    depth: Mapped[int] = mapped_column(Integer)


class UnitCountRow(Base):
    """Running figures of a unit's subtree for a phase, kept with every status change."""

    __tablename__ = "unit_counts"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"), primary_key=True)
    approved: Mapped[int] = mapped_column(BigInteger, default=0)
    pending: Mapped[int] = mapped_column(BigInteger, default=0)
    returned: Mapped[int] = mapped_column(BigInteger, default=0)
    people: Mapped[int] = mapped_column(BigInteger, default=0)
    # Sums of estimates up to 10^15 đồng each overflow a 64-bit integer in the millions.
    benefit_vnd: Mapped[Decimal] = mapped_column(Numeric(30, 0), default=0)


class ParticipantRow(Base):
    """How many approved initiatives a person has in a grassroots unit and phase."""

    __tablename__ = "participants"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"), primary_key=True)
    person: Mapped[str] = mapped_column(String(120), primary_key=True)
    approved: Mapped[int] = mapped_column(Integer, default=0)


class EmulationGroupRow(Base):
    """An emulation cluster or block (cụm, khối thi đua): units ranked together."""

    __tablename__ = "emulation_groups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class EmulationMemberRow(Base):
    """A unit in an emulation group."""

    __tablename__ = "emulation_members"

    group_id: Mapped[int] = mapped_column(ForeignKey("emulation_groups.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True, index=True)


class NudgeRow(Base):
    """A nudge sent to a member: each key once, and at most one a day."""

    __tablename__ = "nudges"
    __table_args__ = (
        UniqueConstraint("member_id", "key"),
        Index("ix_nudges_member_day", "member_id", "day"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(80))
    day: Mapped[dt.date] = mapped_column(Date)
    sent_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class MilestoneRow(Base):
    """A milestone reached (a unit at 50% or 100%, the programme at each 10%)."""

    __tablename__ = "milestones"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"))
    percent: Mapped[int] = mapped_column(Integer)
    reached_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)


class BroadcastRow(Base):
    """A message to many members, sent through the delivery queue."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    # What it says as the core said it (domain.message: versioned JSON of message ids,
    # arguments and buttons), rendered for each recipient as it goes out.
    message: Mapped[Any | None] = mapped_column(JSON)
    # Rows queued before ``message`` existed: the text already rendered ("" since).
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    # A photo sent with the text as its caption: a Telegram file id, or a picture to
    # upload once (its file id then replaces it).
    photo: Mapped[str | None] = mapped_column(String(255))
    image: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Makes a scheduled broadcast (a week's commendation) happen once, whatever reruns.
    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    # Rows queued before ``message``: inline buttons as JSON [[[label, code], ...], ...],
    # labels already in the recipient's language.
    buttons: Mapped[Any | None] = mapped_column(JSON)
    # A review card: where it is shown is recorded, so a decision can update it.
    card_initiative_id: Mapped[int | None] = mapped_column(BigInteger)
    card_version: Mapped[int | None] = mapped_column(Integer)
    # Where the sender's progress message (with its stop button) is shown, so that the
    # button can go once there is nothing left to stop.
    progress_chat_id: Mapped[str | None] = mapped_column(String(64))
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)


class OutgoingRow(Base):
    """One recipient of a broadcast and where their message stands."""

    __tablename__ = "outgoing"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "member_id"),
        Index("ix_outgoing_state_channel_urgent", "state", "channel", "urgent", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"))
    # None for a unit's group or channel.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    chat_id: Mapped[str] = mapped_column(String(64))
    # The recipient's channel: its sender alone takes the row.
    channel: Mapped[str] = mapped_column(String(16))
    # A message shown earlier in the chat (a review card) that this one replaces in place.
    edit_message_id: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    # Notifications of one person's action (a review card, a decision) go before bulk.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())


class LinkedChatRow(Base):
    """A unit's Telegram group or channel, where its commendations are posted too.

    A row starts as a one-time code (``code_hash``) an admin asked for; posting the code
    in the chat fills ``chat_id``. ``active`` goes false when unlinked or when the bot
    is removed from the chat.
    """

    __tablename__ = "linked_chats"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    chat_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    title: Mapped[str | None] = mapped_column(String(255))
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    code_expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    linked_by_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    linked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=False)


class LeaseRow(Base):
    """Who runs the scheduled jobs and the sender: one process at a time, until
    ``expires_at`` unless it renews; then any other may take over."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    acquired_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class SendSecondRow(Base):
    """Messages sent to Telegram in one wall-clock second, by every process together."""

    __tablename__ = "send_seconds"

    second: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    used: Mapped[int] = mapped_column(Integer)


class PaidSendDayRow(Base):
    """Messages sent as paid broadcasts (0,1 Star each) on one day of the union's clock, by
    every process together: the daily cap in Stars is checked against it."""

    __tablename__ = "paid_send_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(BigInteger)


class SubmissionSnapshotRow(Base):
    """What each submitted version said, as one digest per field: enough to tell a
    reviewer which fields changed, without a second copy of the text (or of what is
    confidential)."""

    __tablename__ = "submission_snapshots"

    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # {field: 16 hex digits of SHA-256 of its canonical value}
    digests: Mapped[dict[str, str]] = mapped_column(JSON)
    submitted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class IdentityRow(Base):
    """One channel account of a member. A person may link their Telegram and Zalo
    accounts (/link): both identities then lead to one member, whose ``channel`` and
    ``external_id`` are the account they used last, where the bot writes to them."""

    __tablename__ = "identities"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class LinkCodeRow(Base):
    """A one-time code shown on one account, to be typed on the other to link them; kept
    as a hash, like the codes that link group chats."""

    __tablename__ = "link_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class LinkAttemptRow(Base):
    """Wrong link codes a member typed since ``since``: too many, and they wait."""

    __tablename__ = "link_attempts"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    since: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class KeptFileRow(Base):
    """A file the bot keeps itself (a Zalo photo or voice note, whose link expires; a
    picture drawn to be fetched from the bot's public address), named by the SHA-256 of
    its bytes so that it is stored once. Drawn pictures expire; members' files do not."""

    __tablename__ = "kept_files"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), index=True)


class WebLoginRow(Base):
    """A one-time link to the staff web view, sent in chat by /web; kept as a hash."""

    __tablename__ = "web_logins"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class WebSessionRow(Base):
    """A signed-in browser of the staff web view: the cookie's hash, whose it is, until
    when, and the token its forms carry (CSRF)."""

    __tablename__ = "web_sessions"

    session_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)


# The tables of later features, in their own modules, belong to the same metadata.
import storage.models_similar  # noqa: E402, F401
