"""Tables and statements the repositories share."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Column, CursorResult, Row, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from domain.model import Member, Unit
from storage.executor import Executor
from storage.models import (
    AttachmentRow,
    BroadcastRow,
    CoauthorRow,
    ConsentRow,
    ConversationRow,
    EmulationGroupRow,
    EmulationMemberRow,
    ErasureRow,
    IdentityRow,
    InitiativeEventRow,
    InitiativeRow,
    InviteRow,
    KeptFileRow,
    LinkAttemptRow,
    LinkCodeRow,
    LinkedChatRow,
    MemberRow,
    MilestoneRow,
    NudgeRow,
    OutgoingRow,
    ParticipantRow,
    PhaseRow,
    ProcessedEventRow,
    ReminderRow,
    ReviewCardRow,
    RoleRow,
    SubmissionSnapshotRow,
    TargetRow,
    UnitAncestorRow,
    UnitCountRow,
    UnitRow,
    WebLoginRow,
    WebSessionRow,
)

units = cast(Table, UnitRow.__table__)
members = cast(Table, MemberRow.__table__)
identities = cast(Table, IdentityRow.__table__)
link_codes = cast(Table, LinkCodeRow.__table__)
link_attempts = cast(Table, LinkAttemptRow.__table__)
web_logins = cast(Table, WebLoginRow.__table__)
web_sessions = cast(Table, WebSessionRow.__table__)
conversations = cast(Table, ConversationRow.__table__)
initiatives = cast(Table, InitiativeRow.__table__)
coauthors = cast(Table, CoauthorRow.__table__)
attachments = cast(Table, AttachmentRow.__table__)
events = cast(Table, InitiativeEventRow.__table__)
processed = cast(Table, ProcessedEventRow.__table__)
roles = cast(Table, RoleRow.__table__)
cards = cast(Table, ReviewCardRow.__table__)
reminders = cast(Table, ReminderRow.__table__)
invites = cast(Table, InviteRow.__table__)
phases = cast(Table, PhaseRow.__table__)
targets = cast(Table, TargetRow.__table__)
ancestors = cast(Table, UnitAncestorRow.__table__)
counts = cast(Table, UnitCountRow.__table__)
participants = cast(Table, ParticipantRow.__table__)
nudges = cast(Table, NudgeRow.__table__)
milestones = cast(Table, MilestoneRow.__table__)
broadcasts = cast(Table, BroadcastRow.__table__)
outgoing = cast(Table, OutgoingRow.__table__)
linked_chats = cast(Table, LinkedChatRow.__table__)
emulation_groups = cast(Table, EmulationGroupRow.__table__)
emulation_members = cast(Table, EmulationMemberRow.__table__)
snapshots = cast(Table, SubmissionSnapshotRow.__table__)
kept_files = cast(Table, KeptFileRow.__table__)
consents = cast(Table, ConsentRow.__table__)
erasures = cast(Table, ErasureRow.__table__)


def _by_dialect(build: Any) -> dict[str, Any]:
    """One statement per engine, for the INSERT ... ON CONFLICT forms each spells its own way."""
    return {"postgresql": build(postgresql.insert), "sqlite": build(sqlite.insert)}


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _unit(row: Row[Any]) -> Unit:
    return Unit(id=row.id, code=row.code, name=row.name, level=row.level, parent_id=row.parent_id)


def _member(row: Row[Any]) -> Member:
    return Member(
        id=row.id,
        channel=row.channel,
        external_id=row.external_id,
        display_name=row.display_name,
        language=row.language,
        full_name=row.full_name,
        phone=row.phone,
        unit_id=row.unit_id,
        nudges=bool(row.nudges),
        named=bool(row.named),
        reachable=bool(row.reachable),
        consent_version=row.consent_version,
    )


def _with_flags() -> Any:
    """Select initiatives with whether each has co-authors and attachments."""
    has_coauthors = (
        select(coauthors.c.id).where(coauthors.c.initiative_id == initiatives.c.id).exists()
    )
    has_attachments = (
        select(attachments.c.id).where(attachments.c.initiative_id == initiatives.c.id).exists()
    )
    return select(
        initiatives,
        has_coauthors.label("has_coauthors"),
        has_attachments.label("has_attachments"),
    )


async def take_once(
    db: Executor, table: Table, key: Column[str], value: str, now: dt.datetime
) -> int | None:
    """The member a one-time code (kept as ``value`` in ``key``) was given to, while it is
    valid; the code is used up. Of two takers at once, the DELETE lets one through."""
    row = (
        await db.execute(select(table.c.member_id).where(key == value, table.c.expires_at > now))
    ).first()
    if row is None:
        return None
    gone = await db.execute(delete(table).where(key == value))
    return int(row.member_id) if gone.rowcount == 1 else None
