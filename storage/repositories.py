"""Repositories over one session; they never commit, the unit of work does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import (
    Attachment,
    AttachmentKind,
    Coauthor,
    Conversation,
    DialogState,
    FieldOfUse,
    Initiative,
    InitiativeStatus,
    Member,
    SolutionKind,
    Step,
    Unit,
)
from domain.parsing import normalize_search
from domain.unit_import import UnitRecord
from storage.models import (
    AttachmentRow,
    CoauthorRow,
    ConversationRow,
    InitiativeEventRow,
    InitiativeRow,
    MemberRow,
    ProcessedEventRow,
    UnitRow,
)

# Scalar columns shared one-to-one by an initiative and its row.
_INITIATIVE_FIELDS = (
    "author_id", "entered_by_id", "unit_id", "editing", "title", "problem", "solution",
    "applied", "applied_since", "effect", "benefit_vnd", "benefit_known", "coauthors_done",
    "confidential", "confidential_note", "version", "created_at", "updated_at", "submitted_at",
)  # fmt: skip


def _unit(row: UnitRow) -> Unit:
    return Unit(id=row.id, code=row.code, name=row.name, level=row.level, parent_id=row.parent_id)


def _member(row: MemberRow) -> Member:
    return Member(
        id=row.id,
        channel=row.channel,
        external_id=row.external_id,
        display_name=row.display_name,
        language=row.language,
        full_name=row.full_name,
        phone=row.phone,
        unit_id=row.unit_id,
    )


def _initiative(row: InitiativeRow) -> Initiative:
    values: dict[str, Any] = {name: getattr(row, name) for name in _INITIATIVE_FIELDS}
    return Initiative(
        id=row.id,
        status=InitiativeStatus(row.status),
        step=Step(row.step),
        kind=SolutionKind(row.kind) if row.kind else None,
        field=FieldOfUse(row.field) if row.field else None,
        coauthors=[Coauthor(name=c.name, share=c.share) for c in row.coauthors],
        attachments=[
            Attachment(
                kind=AttachmentKind(a.kind),
                file_id=a.file_id,
                file_unique_id=a.file_unique_id,
                file_size=a.file_size,
                file_name=a.file_name,
                mime_type=a.mime_type,
            )
            for a in row.attachments
        ],
        **values,
    )


def _fill(row: InitiativeRow, initiative: Initiative) -> None:
    for name in _INITIATIVE_FIELDS:
        setattr(row, name, getattr(initiative, name))
    row.status = initiative.status.value
    row.step = initiative.step.value
    row.kind = initiative.kind.value if initiative.kind else None
    row.field = initiative.field.value if initiative.field else None
    wanted = [(c.name, c.share) for c in initiative.coauthors]
    if [(c.name, c.share) for c in row.coauthors] != wanted:
        row.coauthors = [
            CoauthorRow(position=i, name=name, share=share)
            for i, (name, share) in enumerate(wanted)
        ]
    if [a.file_unique_id for a in row.attachments] != [
        a.file_unique_id for a in initiative.attachments
    ]:
        row.attachments = [
            AttachmentRow(
                position=i,
                kind=a.kind.value,
                file_id=a.file_id,
                file_unique_id=a.file_unique_id,
                file_size=a.file_size,
                file_name=a.file_name,
                mime_type=a.mime_type,
            )
            for i, a in enumerate(initiative.attachments)
        ]


class SqlUnitRepository:
    """Units in SQL."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, unit_id: int) -> Unit | None:
        """A unit by id."""
        row = await self._session.get(UnitRow, unit_id)
        return _unit(row) if row else None

    async def by_code(self, code: str) -> Unit | None:
        """A unit by its code, ignoring case."""
        row = (
            await self._session.execute(select(UnitRow).where(UnitRow.code == code))
        ).scalar_one_or_none()
        if row is None:
            row = (
                await self._session.execute(
                    select(UnitRow).where(func.lower(UnitRow.code) == code.lower()).limit(1)
                )
            ).scalar_one_or_none()
        return _unit(row) if row else None

    async def path(self, unit: Unit) -> list[Unit]:
        """The unit and its ancestors, nearest first."""
        path = [unit]
        seen = {unit.id}
        while path[-1].parent_id is not None and path[-1].parent_id not in seen:
            parent = await self.get(path[-1].parent_id)
            if parent is None:
                break
            seen.add(parent.id)
            path.append(parent)
        return path

    async def search_grassroots(self, terms: Sequence[str], limit: int) -> tuple[list[Unit], int]:
        """Grassroots units whose name or path contains every term, and how many match."""
        condition = and_(
            UnitRow.level == "grassroots",
            *(UnitRow.search_text.contains(term, autoescape=True) for term in terms),
        )
        total = (
            await self._session.execute(select(func.count()).select_from(UnitRow).where(condition))
        ).scalar_one()
        # Units whose own name carries the first term come first.
        first = terms[0] if terms else ""
        own_name_first = or_(
            UnitRow.search_text.startswith(first, autoescape=True),
            UnitRow.search_text.contains(" " + first, autoescape=True),
        )
        rows = (
            await self._session.execute(
                select(UnitRow)
                .where(condition)
                .order_by(own_name_first.desc(), func.length(UnitRow.name), UnitRow.name)
                .limit(limit)
            )
        ).scalars()
        return [_unit(row) for row in rows], total

    async def parents_by_code(self) -> dict[str, str | None]:
        """Every unit code with its parent's code."""
        parent = UnitRow.__table__.alias("parent")
        rows = await self._session.execute(
            select(UnitRow.code, parent.c.code).outerjoin(parent, parent.c.id == UnitRow.parent_id)
        )
        return {code: parent_code for code, parent_code in rows}

    async def import_records(self, records: Sequence[UnitRecord], now: dt.datetime) -> int:
        """Insert or update units given parents first; return how many were new."""
        existing = {
            row.code: row for row in (await self._session.execute(select(UnitRow))).scalars()
        }
        names = {code: row.name for code, row in existing.items()}
        parents = {code: row.parent_id for code, row in existing.items()}
        by_id = {row.id: row.code for row in existing.values()}
        for record in records:
            names[record.code] = record.name
        added = 0
        for record in records:
            row = existing.get(record.code)
            if row is None:
                row = UnitRow(code=record.code)
                self._session.add(row)
                existing[record.code] = row
                added += 1
            row.name = record.name
            row.level = record.level.value
            row.parent_id = existing[record.parent_code].id if record.parent_code else None
            row.updated_at = now
            row.search_text = ""
            await self._session.flush()
            by_id[row.id] = row.code
            parents[record.code] = row.parent_id
        # Search covers a unit's own name and its ancestors' names ("thanh hoa" finds units
        # under LĐLĐ tỉnh Thanh Hóa), so every unit's text is refreshed after an import.
        for code, row in existing.items():
            chain, parent_id, seen = [names[code]], parents[code], {code}
            while parent_id is not None and by_id[parent_id] not in seen:
                seen.add(by_id[parent_id])
                chain.append(names[by_id[parent_id]])
                parent_id = parents[by_id[parent_id]]
            text = normalize_search(" | ".join(chain))
            if row.search_text != text:
                row.search_text = text
        return added

    async def grassroots(self) -> list[Unit]:
        """Every grassroots unit, by code."""
        rows = await self._session.execute(
            select(UnitRow).where(UnitRow.level == "grassroots").order_by(UnitRow.code)
        )
        return [_unit(row) for row in rows.scalars()]


class SqlMemberRepository:
    """Members in SQL."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def by_external_id(self, channel: str, external_id: str) -> Member | None:
        """The member known to a channel by this id."""
        row = (
            await self._session.execute(
                select(MemberRow).where(
                    MemberRow.channel == channel, MemberRow.external_id == external_id
                )
            )
        ).scalar_one_or_none()
        return _member(row) if row else None

    async def add(self, member: Member, now: dt.datetime) -> Member:
        """Store a new member and return it with its id."""
        row = MemberRow(
            channel=member.channel,
            external_id=member.external_id,
            display_name=member.display_name,
            language=member.language,
            full_name=member.full_name,
            phone=member.phone,
            unit_id=member.unit_id,
            created_at=now,
            updated_at=now,
        )
        self._session.add(row)
        await self._session.flush()
        return _member(row)

    async def save(self, member: Member, now: dt.datetime) -> None:
        """Write a member's changes."""
        row = await self._session.get(MemberRow, member.id)
        if row is None:
            raise LookupError(member.id)
        row.display_name = member.display_name
        row.language = member.language
        row.full_name = member.full_name
        row.phone = member.phone
        row.unit_id = member.unit_id
        row.updated_at = now


class SqlConversationRepository:
    """Dialog states in SQL."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, member_id: int) -> Conversation:
        """The member's dialog state (idle if none stored)."""
        row = await self._session.get(ConversationRow, member_id)
        if row is None:
            return Conversation(member_id=member_id)
        return Conversation(
            member_id=member_id,
            state=DialogState(row.state),
            draft_id=row.draft_id,
            data=dict(row.data or {}),
        )

    async def save(self, conversation: Conversation, now: dt.datetime) -> None:
        """Write the dialog state."""
        row = await self._session.get(ConversationRow, conversation.member_id)
        if row is None:
            row = ConversationRow(member_id=conversation.member_id)
            self._session.add(row)
        row.state = conversation.state.value
        row.draft_id = conversation.draft_id
        row.data = dict(conversation.data)
        row.updated_at = now


class SqlInitiativeRepository:
    """Initiatives in SQL."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, initiative: Initiative) -> Initiative:
        """Store a new initiative and return it with its id."""
        row = InitiativeRow(coauthors=[], attachments=[])
        _fill(row, initiative)
        self._session.add(row)
        await self._session.flush()
        initiative.id = row.id
        return initiative

    async def get(self, initiative_id: int) -> Initiative | None:
        """An initiative with its co-authors and attachments."""
        row = await self._session.get(InitiativeRow, initiative_id)
        return _initiative(row) if row else None

    async def save(self, initiative: Initiative) -> None:
        """Write an initiative's changes, co-authors and attachments included."""
        row = await self._session.get(InitiativeRow, initiative.id)
        if row is None:
            raise LookupError(initiative.id)
        _fill(row, initiative)

    async def by_author(
        self, author_id: int, offset: int, limit: int
    ) -> tuple[list[Initiative], int]:
        """A page of an author's initiatives, newest first, and how many there are in all."""
        condition = and_(
            InitiativeRow.author_id == author_id,
            InitiativeRow.status != InitiativeStatus.DISCARDED.value,
        )
        total = (
            await self._session.execute(
                select(func.count()).select_from(InitiativeRow).where(condition)
            )
        ).scalar_one()
        rows = await self._session.execute(
            select(InitiativeRow)
            .where(condition)
            .order_by(InitiativeRow.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [_initiative(row) for row in rows.scalars()], total

    async def drafts(self, author_id: int, limit: int) -> tuple[list[Initiative], int]:
        """An author's open drafts, last touched first, and how many there are."""
        condition = and_(
            InitiativeRow.author_id == author_id,
            InitiativeRow.status == InitiativeStatus.DRAFT.value,
        )
        total = (
            await self._session.execute(
                select(func.count()).select_from(InitiativeRow).where(condition)
            )
        ).scalar_one()
        rows = await self._session.execute(
            select(InitiativeRow)
            .where(condition)
            .order_by(InitiativeRow.updated_at.desc(), InitiativeRow.id.desc())
            .limit(limit)
        )
        return [_initiative(row) for row in rows.scalars()], total

    async def record(
        self,
        initiative: Initiative,
        actor_id: int,
        action: str,
        at: dt.datetime,
        note: str | None = None,
    ) -> None:
        """Append an entry to the initiative's history."""
        self._session.add(
            InitiativeEventRow(
                initiative_id=initiative.id,
                actor_id=actor_id,
                action=action,
                version=initiative.version,
                note=note,
                at=at,
            )
        )

    async def history(self, initiative_id: int) -> list[tuple[str, int, dt.datetime]]:
        """The initiative's recorded actions with version and time, oldest first."""
        rows = await self._session.execute(
            select(InitiativeEventRow.action, InitiativeEventRow.version, InitiativeEventRow.at)
            .where(InitiativeEventRow.initiative_id == initiative_id)
            .order_by(InitiativeEventRow.id)
        )
        return [(action, version, at) for action, version, at in rows]

    async def count(self, status: InitiativeStatus | None = None) -> int:
        """How many initiatives there are, optionally of one status."""
        query = select(func.count()).select_from(InitiativeRow)
        if status is not None:
            query = query.where(InitiativeRow.status == status.value)
        return (await self._session.execute(query)).scalar_one()


class SqlInbox:
    """Processed event ids in SQL."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, event_id: str, now: dt.datetime) -> bool:
        """Record the event; False when it was handled before."""
        dialect = self._session.bind.dialect.name if self._session.bind else "sqlite"
        values = {"event_id": event_id, "at": now}
        statement: Any
        if dialect == "postgresql":
            statement = postgresql.insert(ProcessedEventRow).values(values)
        elif dialect == "sqlite":
            statement = sqlite.insert(ProcessedEventRow).values(values)
        else:  # pragma: no cover - only the two engines are supported
            statement = insert(ProcessedEventRow).values(values)
        result = await self._session.execute(statement.on_conflict_do_nothing())
        return bool(getattr(result, "rowcount", 0) == 1)
