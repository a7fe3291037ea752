"""Repositories over one connection; they never commit, the unit of work does.

They use SQLAlchemy Core on the tables the models declare: a dialog step is a
handful of short statements, and the ORM's per-object bookkeeping cost several
times more CPU than the statements themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Row,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects import postgresql, sqlite

from domain.delivery import BroadcastExtras, Outgoing, OutgoingState
from domain.model import (
    Approval,
    Attachment,
    AttachmentKind,
    Coauthor,
    Conversation,
    CountChange,
    DialogState,
    FieldOfUse,
    Figures,
    HistoryEntry,
    Initiative,
    InitiativeStatus,
    Invite,
    LinkedChat,
    Member,
    Phase,
    ReviewCard,
    Role,
    RoleKind,
    SolutionKind,
    Step,
    Unit,
)
from domain.parsing import normalize_search
from domain.unit_import import UnitRecord
from storage.executor import Executor
from storage.models import (
    AttachmentRow,
    BroadcastRow,
    CoauthorRow,
    ConversationRow,
    EmulationGroupRow,
    EmulationMemberRow,
    InitiativeEventRow,
    InitiativeRow,
    InviteRow,
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
    TargetRow,
    UnitAncestorRow,
    UnitCountRow,
    UnitRow,
)

units = cast(Table, UnitRow.__table__)
members = cast(Table, MemberRow.__table__)
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

# Scalar columns shared one-to-one by an initiative and its row.
_INITIATIVE_FIELDS = (
    "author_id", "entered_by_id", "unit_id", "editing", "title", "problem", "solution",
    "applied", "applied_since", "effect", "benefit_vnd", "benefit_known", "benefit_range",
    "coauthors_done",
    "confidential", "confidential_note", "version", "phase_id", "created_at", "updated_at",
    "submitted_at",
)  # fmt: skip


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
    )


def _initiative_values(initiative: Initiative) -> dict[str, Any]:
    values = {name: getattr(initiative, name) for name in _INITIATIVE_FIELDS}
    values["status"] = initiative.status.value
    values["step"] = initiative.step.value
    values["kind"] = initiative.kind.value if initiative.kind else None
    values["field"] = initiative.field.value if initiative.field else None
    return values


def _attachment_values(initiative_id: int, position: int, a: Attachment) -> dict[str, Any]:
    return {
        "initiative_id": initiative_id,
        "position": position,
        "kind": a.kind.value,
        "file_id": a.file_id,
        "file_unique_id": a.file_unique_id,
        "file_size": a.file_size,
        "file_name": a.file_name,
        "mime_type": a.mime_type,
        "answer": a.answer,
        "duration": a.duration,
    }


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


# The statements of a dialog step are built once: building and hashing a statement cost
# more CPU than running it. Values travel as parameters; an UPDATE executed with a
# parameter dict sets the columns the dict names.
_MEMBER_WITH_DIALOG = (
    select(
        members,
        conversations.c.state.label("dialog_state"),
        conversations.c.draft_id.label("dialog_draft_id"),
        conversations.c.data.label("dialog_data"),
    )
    .outerjoin(conversations, conversations.c.member_id == members.c.id)
    .where(members.c.channel == bindparam("b_channel"))
    .where(members.c.external_id == bindparam("b_external_id"))
)
_UPDATE_MEMBER = update(members).where(members.c.id == bindparam("b_id"))
_INITIATIVE_BY_ID = _with_flags().where(initiatives.c.id == bindparam("b_id"))
_UPDATE_INITIATIVE = update(initiatives).where(initiatives.c.id == bindparam("b_id"))
_DECIDE = (
    update(initiatives)
    .where(initiatives.c.id == bindparam("b_id"))
    .where(initiatives.c.version == bindparam("b_version"))
    .where(initiatives.c.status == bindparam("b_pending"))
)
_REMIND = _by_dialect(lambda insert_: insert_(reminders).on_conflict_do_nothing())
_CLAIM = _by_dialect(lambda insert_: insert_(processed).on_conflict_do_nothing())


def _conversation_upsert(insert_: Any) -> Any:
    statement = insert_(conversations)
    return statement.on_conflict_do_update(
        index_elements=["member_id"],
        set_={
            name: statement.excluded[name] for name in ("state", "draft_id", "data", "updated_at")
        },
    )


_SAVE_CONVERSATION = _by_dialect(_conversation_upsert)


class SqlUnitRepository:
    """Units in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def get(self, unit_id: int) -> Unit | None:
        """A unit by id."""
        row = (await self._db.execute(select(units).where(units.c.id == unit_id))).first()
        return _unit(row) if row else None

    async def by_code(self, code: str) -> Unit | None:
        """A unit by its code, ignoring case."""
        row = (await self._db.execute(select(units).where(units.c.code == code))).first()
        if row is None:
            query = select(units).where(func.lower(units.c.code) == code.lower()).limit(1)
            row = (await self._db.execute(query)).first()
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
            units.c.level == "grassroots",
            *(units.c.search_text.contains(term, autoescape=True) for term in terms),
        )
        count = select(func.count()).select_from(units).where(condition)
        total = (await self._db.execute(count)).scalar_one()
        # Units whose own name carries the first term come first.
        first = terms[0] if terms else ""
        own_name_first = or_(
            units.c.search_text.startswith(first, autoescape=True),
            units.c.search_text.contains(" " + first, autoescape=True),
        )
        rows = await self._db.execute(
            select(units)
            .where(condition)
            .order_by(own_name_first.desc(), func.length(units.c.name), units.c.name)
            .limit(limit)
        )
        return [_unit(row) for row in rows], total

    async def parents_by_code(self) -> dict[str, str | None]:
        """Every unit code with its parent's code."""
        parent = units.alias("parent")
        rows = await self._db.execute(
            select(units.c.code, parent.c.code.label("parent_code")).outerjoin(
                parent, parent.c.id == units.c.parent_id
            )
        )
        return {row.code: row.parent_code for row in rows}

    async def import_records(
        self, records: Sequence[UnitRecord], now: dt.datetime
    ) -> tuple[int, bool]:
        """Insert or update units given parents first; return how many were new and
        whether an existing unit moved to another parent."""
        rows = (await self._db.execute(select(units))).all()
        ids = {row.code: row.id for row in rows}
        names = {row.code: row.name for row in rows}
        parent_ids = {row.code: row.parent_id for row in rows}
        texts = {row.code: row.search_text for row in rows}
        added = 0
        moved = False
        for record in records:
            values = {
                "name": record.name,
                "level": record.level.value,
                "parent_id": ids[record.parent_code] if record.parent_code else None,
                "updated_at": now,
            }
            if record.code in ids:
                moved = moved or parent_ids[record.code] != values["parent_id"]
                await self._db.execute(
                    update(units).where(units.c.id == ids[record.code]).values(values)
                )
            else:
                result = await self._db.execute(
                    insert(units).values(code=record.code, search_text="", **values)
                )
                ids[record.code] = _new_id(result)
                texts[record.code] = ""
                added += 1
            names[record.code] = record.name
            parent_ids[record.code] = values["parent_id"]
        # Search covers a unit's own name and its ancestors' names ("thanh hoa" finds units
        # under LĐLĐ tỉnh Thanh Hóa), so every unit's text is refreshed after an import.
        codes = {unit_id: code for code, unit_id in ids.items()}
        for code, unit_id in ids.items():
            chain, parent_id, seen = [names[code]], parent_ids[code], {code}
            while parent_id is not None and codes[parent_id] not in seen:
                seen.add(codes[parent_id])
                chain.append(names[codes[parent_id]])
                parent_id = parent_ids[codes[parent_id]]
            text = normalize_search(" | ".join(chain))
            if texts[code] != text:
                await self._db.execute(
                    update(units).where(units.c.id == unit_id).values(search_text=text)
                )
        return added, moved

    async def children(self, unit_id: int, limit: int) -> list[Unit]:
        """Units directly below, by name."""
        rows = await self._db.execute(
            select(units).where(units.c.parent_id == unit_id).order_by(units.c.name).limit(limit)
        )
        return [_unit(row) for row in rows]

    async def grassroots(self) -> list[Unit]:
        """Every grassroots unit, by code."""
        rows = await self._db.execute(
            select(units).where(units.c.level == "grassroots").order_by(units.c.code)
        )
        return [_unit(row) for row in rows]


class Prefetched:
    """Rows one statement brought for another repository of the same unit of work."""

    def __init__(self) -> None:
        self.conversations: dict[int, Conversation] = {}


def _conversation(
    member_id: int, state: str | None, draft_id: int | None, data: Any
) -> Conversation:
    if state is None:
        return Conversation(member_id=member_id)
    return Conversation(
        member_id=member_id, state=DialogState(state), draft_id=draft_id, data=dict(data or {})
    )


# hashtextextended gives a 64-bit key: two members share a lock only by a rare collision,
# which costs a little waiting and nothing else.
_MEMBER_LOCK = sql_text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


class SqlMemberRepository:
    """Members in SQL."""

    def __init__(self, connection: Executor, prefetched: Prefetched) -> None:
        self._db = connection
        self._prefetched = prefetched

    async def serialize(self, channel: str, external_id: str) -> None:
        """A transaction-scoped advisory lock on PostgreSQL, where several processes may
        handle one member's events; SQLite has one process and one writer already."""
        if self._db.dialect.name == "postgresql":
            await self._db.execute(_MEMBER_LOCK, {"key": f"{channel}:{external_id}"})

    async def by_external_id(self, channel: str, external_id: str) -> Member | None:
        """The member known to a channel by this id."""
        # The dialog state is read with the member: every event needs both.
        parameters = {"b_channel": channel, "b_external_id": external_id}
        row = (await self._db.execute(_MEMBER_WITH_DIALOG, parameters)).first()
        if row is None:
            return None
        self._prefetched.conversations[row.id] = _conversation(
            row.id, row.dialog_state, row.dialog_draft_id, row.dialog_data
        )
        return _member(row)

    async def by_ids(self, member_ids: Sequence[int]) -> dict[int, Member]:
        """Members by id."""
        if not member_ids:
            return {}
        rows = await self._db.execute(select(members).where(members.c.id.in_(set(member_ids))))
        return {row.id: _member(row) for row in rows}

    async def add(self, member: Member, now: dt.datetime) -> Member:
        """Store a new member and return it with its id."""
        result = await self._db.execute(
            insert(members).values(
                channel=member.channel,
                external_id=member.external_id,
                display_name=member.display_name,
                language=member.language,
                full_name=member.full_name,
                phone=member.phone,
                unit_id=member.unit_id,
                nudges=member.nudges,
                named=member.named,
                created_at=now,
                updated_at=now,
            )
        )
        member.id = _new_id(result)
        return member

    async def save(self, member: Member, now: dt.datetime) -> None:
        """Write a member's changes."""
        await self._db.execute(
            _UPDATE_MEMBER,
            {
                "b_id": member.id,
                "display_name": member.display_name,
                "language": member.language,
                "full_name": member.full_name,
                "phone": member.phone,
                "unit_id": member.unit_id,
                "nudges": member.nudges,
                "named": member.named,
                "updated_at": now,
            },
        )

    async def in_units(self, unit_ids: Sequence[int], limit: int) -> list[Member]:
        """Members of these units, by name."""
        rows = await self._db.execute(
            select(members)
            .where(members.c.unit_id.in_(set(unit_ids)), members.c.full_name.is_not(None))
            .order_by(members.c.full_name)
            .limit(limit)
        )
        return [_member(row) for row in rows]


class SqlConversationRepository:
    """Dialog states in SQL."""

    def __init__(self, connection: Executor, prefetched: Prefetched) -> None:
        self._db = connection
        self._prefetched = prefetched

    async def get(self, member_id: int) -> Conversation:
        """The member's dialog state (idle if none stored)."""
        if member_id in self._prefetched.conversations:
            return self._prefetched.conversations.pop(member_id)
        query = select(conversations).where(conversations.c.member_id == member_id)
        row = (await self._db.execute(query)).first()
        if row is None:
            return Conversation(member_id=member_id)
        return _conversation(member_id, row.state, row.draft_id, row.data)

    async def save(self, conversation: Conversation, now: dt.datetime) -> None:
        """Write the dialog state."""
        await self._db.execute(
            _SAVE_CONVERSATION[self._db.dialect.name],
            {
                "member_id": conversation.member_id,
                "state": conversation.state.value,
                "draft_id": conversation.draft_id,
                "data": dict(conversation.data),
                "updated_at": now,
            },
        )


class SqlInitiativeRepository:
    """Initiatives in SQL; remembers what it loaded so a save writes only what changed."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection
        self._loaded: dict[int, Initiative] = {}
        self._children: dict[int, tuple[list[Coauthor], list[Attachment]]] = {}

    async def add(self, initiative: Initiative) -> Initiative:
        """Store a new initiative and return it with its id."""
        result = await self._db.execute(insert(initiatives).values(_initiative_values(initiative)))
        initiative.id = _new_id(result)
        self._children[initiative.id] = ([], [])
        await self._write_children(initiative)
        self._loaded[initiative.id] = initiative
        return initiative

    async def get(self, initiative_id: int) -> Initiative | None:
        """An initiative with its co-authors and attachments."""
        if initiative_id in self._loaded:
            return self._loaded[initiative_id]
        row = (await self._db.execute(_INITIATIVE_BY_ID, {"b_id": initiative_id})).first()
        if row is None:
            return None
        found = await self._with_children([row])
        return found[0]

    async def _with_children(self, rows: Sequence[Row[Any]]) -> list[Initiative]:
        names: dict[int, list[Coauthor]] = {row.id: [] for row in rows}
        files: dict[int, list[Attachment]] = {row.id: [] for row in rows}
        # Most dialog steps happen before there are any co-authors or files: the flags
        # spare two round trips to the database then.
        with_names = [row.id for row in rows if row.has_coauthors]
        with_files = [row.id for row in rows if row.has_attachments]
        if with_names:
            for c in await self._db.execute(
                select(coauthors)
                .where(coauthors.c.initiative_id.in_(with_names))
                .order_by(coauthors.c.position)
            ):
                names[c.initiative_id].append(Coauthor(name=c.name, share=c.share))
        if with_files:
            for a in await self._db.execute(
                select(attachments)
                .where(attachments.c.initiative_id.in_(with_files))
                .order_by(attachments.c.position)
            ):
                files[a.initiative_id].append(
                    Attachment(
                        kind=AttachmentKind(a.kind),
                        file_id=a.file_id,
                        file_unique_id=a.file_unique_id,
                        file_size=a.file_size,
                        file_name=a.file_name,
                        mime_type=a.mime_type,
                        answer=a.answer,
                        duration=a.duration,
                    )
                )
        result = []
        for row in rows:
            mapping = row._mapping
            initiative = Initiative(
                id=row.id,
                status=InitiativeStatus(row.status),
                step=Step(row.step),
                kind=SolutionKind(row.kind) if row.kind else None,
                field=FieldOfUse(row.field) if row.field else None,
                coauthors=names[row.id],
                attachments=files[row.id],
                **{name: mapping[name] for name in _INITIATIVE_FIELDS},
            )
            self._loaded[row.id] = initiative
            self._children[row.id] = (list(names[row.id]), list(files[row.id]))
            result.append(initiative)
        return result

    async def save(self, initiative: Initiative) -> None:
        """Write an initiative's changes, co-authors and attachments included."""
        await self._db.execute(
            _UPDATE_INITIATIVE, {"b_id": initiative.id, **_initiative_values(initiative)}
        )
        await self._write_children(initiative)

    async def _write_children(self, initiative: Initiative) -> None:
        old_names, old_files = self._children.get(initiative.id, (None, None))
        if old_names != initiative.coauthors:
            await self._db.execute(
                delete(coauthors).where(coauthors.c.initiative_id == initiative.id)
            )
            if initiative.coauthors:
                await self._db.execute(
                    insert(coauthors),
                    [
                        {"initiative_id": initiative.id, "position": i, "name": c.name,
                         "share": c.share}
                        for i, c in enumerate(initiative.coauthors)
                    ],
                )  # fmt: skip
        if old_files != initiative.attachments:
            await self._db.execute(
                delete(attachments).where(attachments.c.initiative_id == initiative.id)
            )
            if initiative.attachments:
                await self._db.execute(
                    insert(attachments),
                    [
                        _attachment_values(initiative.id, i, a)
                        for i, a in enumerate(initiative.attachments)
                    ],
                )
        self._children[initiative.id] = (list(initiative.coauthors), list(initiative.attachments))

    async def by_author(
        self, author_id: int, offset: int, limit: int
    ) -> tuple[list[Initiative], int]:
        """A page of the initiatives a member wrote or entered for someone, newest first,
        and how many there are in all."""
        condition = and_(
            or_(initiatives.c.author_id == author_id, initiatives.c.entered_by_id == author_id),
            initiatives.c.status != InitiativeStatus.DISCARDED.value,
        )
        total = (
            await self._db.execute(select(func.count()).select_from(initiatives).where(condition))
        ).scalar_one()
        rows = await self._db.execute(
            _with_flags()
            .where(condition)
            .order_by(initiatives.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return await self._with_children(rows.all()), total

    async def drafts(self, author_id: int, limit: int) -> tuple[list[Initiative], int]:
        """Open drafts a member writes or enters for someone, last touched first, and how
        many there are."""
        condition = and_(
            or_(initiatives.c.author_id == author_id, initiatives.c.entered_by_id == author_id),
            initiatives.c.status == InitiativeStatus.DRAFT.value,
        )
        total = (
            await self._db.execute(select(func.count()).select_from(initiatives).where(condition))
        ).scalar_one()
        if not limit or not total:
            return [], total
        rows = await self._db.execute(
            _with_flags()
            .where(condition)
            .order_by(initiatives.c.updated_at.desc(), initiatives.c.id.desc())
            .limit(limit)
        )
        return await self._with_children(rows.all()), total

    async def record(
        self,
        initiative: Initiative,
        actor_id: int,
        action: str,
        at: dt.datetime,
        note: str | None = None,
        role: str | None = None,
    ) -> None:
        """Append an entry to the initiative's history."""
        await self._db.execute(
            insert(events),
            {
                "initiative_id": initiative.id,
                "actor_id": actor_id,
                "action": action,
                "role": role,
                "version": initiative.version,
                "note": note,
                "at": at,
            },
        )

    async def history(self, initiative_id: int) -> list[HistoryEntry]:
        """The initiative's record, oldest first."""
        rows = await self._db.execute(
            select(events, members.c.full_name, members.c.display_name)
            .join(members, members.c.id == events.c.actor_id)
            .where(events.c.initiative_id == initiative_id)
            .order_by(events.c.id)
        )
        return [
            HistoryEntry(
                action=row.action,
                version=row.version,
                at=row.at,
                actor_id=row.actor_id,
                actor_name=row.full_name or row.display_name,
                role=row.role,
                note=row.note,
            )
            for row in rows
        ]

    async def pending_in(
        self, roots: Sequence[int], offset: int, limit: int
    ) -> tuple[list[Initiative], int, list[tuple[Unit, int]]]:
        """Pending initiatives in the subtrees of ``roots``, oldest first: a page, the
        total, and how many wait in each unit, most first."""
        tree = select(units.c.id).where(units.c.id.in_(set(roots))).cte("tree", recursive=True)
        tree = tree.union_all(select(units.c.id).where(units.c.parent_id == tree.c.id))
        condition = and_(
            initiatives.c.status == InitiativeStatus.PENDING.value,
            initiatives.c.unit_id.in_(select(tree.c.id)),
        )
        per_unit = (
            await self._db.execute(
                select(units, func.count(initiatives.c.id).label("waiting"))
                .join(initiatives, initiatives.c.unit_id == units.c.id)
                .where(condition)
                .group_by(*units.c)
                .order_by(func.count(initiatives.c.id).desc(), units.c.name)
            )
        ).all()
        total = sum(row.waiting for row in per_unit)
        rows = await self._db.execute(
            _with_flags()
            .where(condition)
            .order_by(initiatives.c.submitted_at, initiatives.c.id)
            .offset(offset)
            .limit(limit)
        )
        page = await self._with_children(rows.all())
        return page, total, [(_unit(row), row.waiting) for row in per_unit]

    async def reopen(self, initiative_id: int, version: int, now: dt.datetime) -> bool:
        """Send a decided version back for changes; False when it is not decided."""
        result = await self._db.execute(
            update(initiatives)
            .where(
                initiatives.c.id == initiative_id,
                initiatives.c.version == version,
                initiatives.c.status.in_(
                    [InitiativeStatus.APPROVED.value, InitiativeStatus.REJECTED.value]
                ),
            )
            .values(status=InitiativeStatus.RETURNED.value, updated_at=now)
        )
        self._loaded.pop(initiative_id, None)
        return bool(result.rowcount == 1)

    async def waiting_since(self, cutoff: dt.datetime) -> list[Initiative]:
        """Pending initiatives submitted before ``cutoff``, oldest first."""
        rows = await self._db.execute(
            _with_flags()
            .where(
                initiatives.c.status == InitiativeStatus.PENDING.value,
                initiatives.c.submitted_at <= cutoff,
            )
            .order_by(initiatives.c.submitted_at, initiatives.c.id)
        )
        return await self._with_children(rows.all())

    async def decide(
        self, initiative_id: int, version: int, status: InitiativeStatus, now: dt.datetime
    ) -> bool:
        """Set the outcome of a pending version; False when it was decided already.

        One conditional UPDATE: of two reviewers deciding at once, the database lets
        exactly one change the row (PostgreSQL re-checks the condition after the lock).
        """
        result = await self._db.execute(
            _DECIDE,
            {
                "b_id": initiative_id,
                "b_version": version,
                "b_pending": InitiativeStatus.PENDING.value,
                "status": status.value,
                "updated_at": now,
            },
        )
        self._loaded.pop(initiative_id, None)
        return bool(result.rowcount == 1)

    async def count(self, status: InitiativeStatus | None = None) -> int:
        """How many initiatives there are, optionally of one status."""
        query = select(func.count()).select_from(initiatives)
        if status is not None:
            query = query.where(initiatives.c.status == status.value)
        return int((await self._db.execute(query)).scalar_one())


def _role(row: Row[Any]) -> Role:
    return Role(
        id=row.id,
        member_id=row.member_id,
        unit_id=row.unit_id,
        kind=RoleKind(row.kind),
        granted_at=row.granted_at,
        granted_by_id=row.granted_by_id,
        revoked_at=row.revoked_at,
    )


class SqlRoleRepository:
    """Roles in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def grant(
        self, member_id: int, unit_id: int, kind: RoleKind, by: int | None, now: dt.datetime
    ) -> Role:
        """Give a role, or return it if the member holds it already."""
        current = await self._active(member_id, unit_id, kind)
        if current is not None:
            return current
        values = {
            "member_id": member_id,
            "unit_id": unit_id,
            "kind": kind.value,
            "granted_by_id": by,
            "granted_at": now,
        }
        result = await self._db.execute(insert(roles), values)
        return Role(id=_new_id(result), member_id=member_id, unit_id=unit_id, kind=kind,
                    granted_at=now, granted_by_id=by)  # fmt: skip

    async def _active(self, member_id: int, unit_id: int, kind: RoleKind) -> Role | None:
        row = (
            await self._db.execute(
                select(roles).where(
                    roles.c.member_id == member_id,
                    roles.c.unit_id == unit_id,
                    roles.c.kind == kind.value,
                    roles.c.revoked_at.is_(None),
                )
            )
        ).first()
        return _role(row) if row else None

    async def revoke(
        self, member_id: int, unit_id: int, kind: RoleKind, by: int | None, now: dt.datetime
    ) -> bool:
        """End a role; False when the member did not hold it."""
        result = await self._db.execute(
            update(roles)
            .where(
                roles.c.member_id == member_id,
                roles.c.unit_id == unit_id,
                roles.c.kind == kind.value,
                roles.c.revoked_at.is_(None),
            )
            .values(revoked_at=now, revoked_by_id=by)
        )
        return bool(result.rowcount)

    async def of_member(self, member_id: int) -> list[Role]:
        """The member's roles in force."""
        rows = await self._db.execute(
            select(roles).where(roles.c.member_id == member_id, roles.c.revoked_at.is_(None))
        )
        return [_role(row) for row in rows]

    async def holders(self, unit_ids: Sequence[int], kind: RoleKind) -> dict[int, list[Member]]:
        """Members holding a role in force for each of these units."""
        result: dict[int, list[Member]] = {unit_id: [] for unit_id in unit_ids}
        if not unit_ids:
            return result
        rows = await self._db.execute(
            select(members, roles.c.unit_id.label("role_unit_id"))
            .join(roles, roles.c.member_id == members.c.id)
            .where(
                roles.c.unit_id.in_(set(unit_ids)),
                roles.c.kind == kind.value,
                roles.c.revoked_at.is_(None),
            )
            .order_by(roles.c.id)
        )
        for row in rows:
            result[row.role_unit_id].append(_member(row))
        return result

    async def get(self, role_id: int) -> Role | None:
        """A role by id, in force or not."""
        row = (await self._db.execute(select(roles).where(roles.c.id == role_id))).first()
        return _role(row) if row else None

    async def in_subtrees(self, roots: Sequence[int]) -> list[tuple[Role, Member, Unit]]:
        """Roles in force for the units in the subtrees of ``roots``."""
        tree = select(units.c.id).where(units.c.id.in_(set(roots))).cte("tree", recursive=True)
        tree = tree.union_all(select(units.c.id).where(units.c.parent_id == tree.c.id))
        return await self.listing(roles.c.unit_id.in_(select(tree.c.id)))

    async def listing(self, condition: Any = None) -> list[tuple[Role, Member, Unit]]:
        """Every role in force, with its member and unit."""
        query = select(roles).where(roles.c.revoked_at.is_(None)).order_by(roles.c.id)
        if condition is not None:
            query = query.where(condition)
        rows = (await self._db.execute(query)).all()
        people = {
            row.id: _member(row)
            for row in await self._db.execute(
                select(members).where(members.c.id.in_({r.member_id for r in rows}))
            )
        }
        places = {
            row.id: _unit(row)
            for row in await self._db.execute(
                select(units).where(units.c.id.in_({r.unit_id for r in rows}))
            )
        }
        return [(_role(r), people[r.member_id], places[r.unit_id]) for r in rows]


def _invite(row: Row[Any]) -> Invite:
    return Invite(
        id=row.id,
        token_hash=row.token_hash,
        kind=RoleKind(row.kind),
        unit_id=row.unit_id,
        created_by_id=row.created_by_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_by_id=row.used_by_id,
        used_at=row.used_at,
    )


class SqlInviteRepository:
    """Invitations in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def add(self, invite: Invite) -> Invite:
        """Store a new invitation and return it with its id."""
        result = await self._db.execute(
            insert(invites),
            {
                "token_hash": invite.token_hash,
                "kind": invite.kind.value,
                "unit_id": invite.unit_id,
                "created_by_id": invite.created_by_id,
                "created_at": invite.created_at,
                "expires_at": invite.expires_at,
            },
        )
        invite.id = _new_id(result)
        return invite

    async def by_token_hash(self, token_hash: str) -> Invite | None:
        """The invitation with this token."""
        query = select(invites).where(invites.c.token_hash == token_hash)
        row = (await self._db.execute(query)).first()
        return _invite(row) if row else None

    async def use(self, invite_id: int, member_id: int, now: dt.datetime) -> bool:
        """Mark the invitation used; False when it was used already."""
        result = await self._db.execute(
            update(invites)
            .where(invites.c.id == invite_id, invites.c.used_at.is_(None))
            .values(used_by_id=member_id, used_at=now)
        )
        return bool(result.rowcount == 1)


class SqlReviewCardRepository:
    """Review cards in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def add(self, card: ReviewCard, now: dt.datetime) -> None:
        """Remember a card that was sent."""
        await self._db.execute(
            insert(cards),
            {
                "initiative_id": card.initiative_id,
                "version": card.version,
                "member_id": card.member_id,
                "chat_id": card.chat_id,
                "message_id": card.message_id,
                "created_at": now,
            },
        )

    async def of_initiative(self, initiative_id: int) -> list[ReviewCard]:
        """Every card shown for the initiative, oldest first."""
        rows = await self._db.execute(
            select(cards).where(cards.c.initiative_id == initiative_id).order_by(cards.c.id)
        )
        return [
            ReviewCard(row.initiative_id, row.version, row.member_id, row.chat_id, row.message_id)
            for row in rows
        ]


class SqlReminderLog:
    """Sent reminders in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def claim(self, member_id: int, kind: str, day: dt.date, now: dt.datetime) -> bool:
        """Record a reminder of this kind for the day; False when one was sent already."""
        values = {"member_id": member_id, "kind": kind, "day": day, "sent_at": now}
        result = await self._db.execute(_REMIND[self._db.dialect.name], values)
        return bool(result.rowcount == 1)


class SqlInbox:
    """Processed event ids in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def claim(self, event_id: str, now: dt.datetime) -> bool:
        """Record the event; False when it was handled before."""
        result = await self._db.execute(
            _CLAIM[self._db.dialect.name], {"event_id": event_id, "at": now}
        )
        return bool(result.rowcount == 1)

    async def forget_before(self, cutoff: dt.datetime) -> int:
        """Forget events older than ``cutoff``; Telegram redelivers for hours, not weeks."""
        result = await self._db.execute(delete(processed).where(processed.c.at < cutoff))
        return int(result.rowcount or 0)


_COUNTERS = ("approved", "pending", "returned", "people", "benefit_vnd")


def _count_change(insert_: Any) -> Any:
    """Add a change to the unit's figures and to those of every unit above it."""
    source = select(
        ancestors.c.ancestor_id,
        bindparam("b_phase"),
        *(bindparam(f"b_{name}") for name in _COUNTERS),
    ).where(ancestors.c.unit_id == bindparam("b_unit"))
    statement = insert_(counts).from_select(["unit_id", "phase_id", *_COUNTERS], source)
    return statement.on_conflict_do_update(
        index_elements=["unit_id", "phase_id"],
        set_={name: counts.c[name] + statement.excluded[name] for name in _COUNTERS},
    )


def _participation(insert_: Any) -> Any:
    statement = insert_(participants)
    return statement.on_conflict_do_update(
        index_elements=["unit_id", "phase_id", "person"],
        set_={"approved": participants.c.approved + statement.excluded.approved},
    )


def _target_upsert(insert_: Any) -> Any:
    statement = insert_(targets)
    return statement.on_conflict_do_update(
        index_elements=["unit_id", "phase_id"],
        set_={"target": statement.excluded.target, "updated_at": statement.excluded.updated_at},
    )


_CHANGE_COUNTS = _by_dialect(_count_change)
_PARTICIPATE = _by_dialect(_participation)
_SET_TARGET = _by_dialect(_target_upsert)


def _phase(row: Row[Any]) -> Phase:
    return Phase(id=row.id, code=row.code, name=row.name, starts_on=row.starts_on,
                 ends_on=row.ends_on, target=row.target)  # fmt: skip


class SqlProgressRepository:
    """Phases, targets and running figures in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def phases(self) -> list[Phase]:
        """Every phase, earliest first."""
        rows = await self._db.execute(select(phases).order_by(phases.c.starts_on))
        return [_phase(row) for row in rows]

    async def add_phase(self, phase: Phase) -> Phase:
        """Store a new phase, or update the one with the same code."""
        values = {"name": phase.name, "starts_on": phase.starts_on, "ends_on": phase.ends_on,
                  "target": phase.target}  # fmt: skip
        row = (await self._db.execute(select(phases).where(phases.c.code == phase.code))).first()
        if row is None:
            result = await self._db.execute(insert(phases), {"code": phase.code, **values})
            phase.id = _new_id(result)
        else:
            await self._db.execute(update(phases).where(phases.c.id == row.id).values(values))
            phase.id = row.id
        return phase

    async def targets(self, unit_ids: Sequence[int], phase_id: int) -> dict[int, int]:
        """Targets of these units for a phase."""
        rows = await self._db.execute(
            select(targets.c.unit_id, targets.c.target).where(
                targets.c.unit_id.in_(set(unit_ids)), targets.c.phase_id == phase_id
            )
        )
        return {row.unit_id: int(row.target) for row in rows}

    async def set_targets(self, triples: Sequence[tuple[int, int, int]], now: dt.datetime) -> None:
        """Set (unit id, phase id, target) triples."""
        if triples:
            await self._db.execute(
                _SET_TARGET[self._db.dialect.name],
                [{"unit_id": u, "phase_id": p, "target": t, "updated_at": now}
                 for u, p, t in triples],
            )  # fmt: skip

    async def change(self, unit_id: int, phase_id: int, change: CountChange) -> None:
        """Move the figures of the unit and of every unit above it."""
        await self._db.execute(
            _CHANGE_COUNTS[self._db.dialect.name],
            {"b_unit": unit_id, "b_phase": phase_id,
             **{f"b_{name}": getattr(change, name) for name in _COUNTERS}},
        )  # fmt: skip

    async def participate(self, unit_id: int, phase_id: int, person: str, step: int) -> int:
        """Count one approved initiative more (or less) for a person in a grassroots unit;
        return +1 when they start to count as a participant, -1 when they stop, else 0."""
        key = {"unit_id": unit_id, "phase_id": phase_id, "person": person[:120]}
        await self._db.execute(_PARTICIPATE[self._db.dialect.name], {**key, "approved": step})
        now = (
            await self._db.execute(
                select(participants.c.approved).where(
                    participants.c.unit_id == unit_id,
                    participants.c.phase_id == phase_id,
                    participants.c.person == key["person"],
                )
            )
        ).scalar_one()
        if step > 0 and now == step:
            return 1
        if step < 0 and now == 0:
            return -1
        return 0

    def _figures(self, unit: Unit, row: Row[Any] | None, target: int | None) -> Figures:
        if row is None:
            return Figures(unit=unit, target=target)
        return Figures(
            unit=unit,
            target=target,
            approved=int(row.approved or 0),
            pending=int(row.pending or 0),
            returned=int(row.returned or 0),
            people=int(row.people or 0),
            benefit_vnd=int(row.benefit_vnd or 0),
        )

    async def figures(self, units_: Sequence[Unit], phase_id: int) -> list[Figures]:
        """The figures and targets of these units, in the same order."""
        ids = [u.id for u in units_]
        rows = {
            row.unit_id: row
            for row in await self._db.execute(
                select(counts).where(counts.c.unit_id.in_(set(ids)), counts.c.phase_id == phase_id)
            )
        }
        goals = await self.targets(ids, phase_id)
        return [self._figures(u, rows.get(u.id), goals.get(u.id)) for u in units_]

    async def children_figures(self, parent_id: int | None, phase_id: int) -> list[Figures]:
        """The figures of every unit directly below ``parent_id`` (the roots for None)."""
        below = (
            units.c.parent_id == parent_id if parent_id is not None else units.c.parent_id.is_(None)
        )
        query = (
            select(units, *(counts.c[name] for name in _COUNTERS),
                   targets.c.target.label("goal"))
            .outerjoin(counts, and_(counts.c.unit_id == units.c.id, counts.c.phase_id == phase_id))
            .outerjoin(targets,
                       and_(targets.c.unit_id == units.c.id, targets.c.phase_id == phase_id))
            .where(below)
        )  # fmt: skip
        result = []
        for row in await self._db.execute(query):
            figures = self._figures(_unit(row), row, int(row.goal) if row.goal else None)
            result.append(figures)
        return result

    async def set_groups(self, groups: dict[str, tuple[str, list[int]]]) -> None:
        """Create or replace emulation groups: code → (name, unit ids)."""
        for code, (name, unit_ids) in groups.items():
            query = select(emulation_groups.c.id).where(emulation_groups.c.code == code)
            group_id = (await self._db.execute(query)).scalar_one_or_none()
            if group_id is None:
                result = await self._db.execute(
                    insert(emulation_groups), {"code": code, "name": name}
                )
                group_id = _new_id(result)
            else:
                await self._db.execute(
                    update(emulation_groups)
                    .where(emulation_groups.c.id == group_id)
                    .values(name=name)
                )
                await self._db.execute(
                    delete(emulation_members).where(emulation_members.c.group_id == group_id)
                )
            await self._db.execute(
                insert(emulation_members),
                [{"group_id": group_id, "unit_id": unit_id} for unit_id in sorted(set(unit_ids))],
            )

    async def groups_of(
        self, unit_ids: Sequence[int], phase_id: int
    ) -> list[tuple[str, list[Figures]]]:
        """Each emulation group holding one of these units, with its units' figures."""
        found = (
            await self._db.execute(
                select(emulation_groups)
                .join(emulation_members, emulation_members.c.group_id == emulation_groups.c.id)
                .where(emulation_members.c.unit_id.in_(set(unit_ids)))
                .distinct()
                .order_by(emulation_groups.c.name)
            )
        ).all()
        result = []
        for group in found:
            rows = await self._db.execute(
                select(units)
                .join(emulation_members, emulation_members.c.unit_id == units.c.id)
                .where(emulation_members.c.group_id == group.id)
            )
            result.append((group.name, await self.figures([_unit(r) for r in rows], phase_id)))
        return result

    async def rebuild_closure(self) -> None:
        """Recompute which units lie above which, after the tree changed."""
        await self._db.execute(delete(ancestors))
        up = select(
            units.c.id.label("unit_id"), units.c.id.label("ancestor_id"),
            literal(0).label("depth"),
        ).cte("up", recursive=True)  # fmt: skip
        parent = units.alias("parent_unit")
        up = up.union_all(
            select(up.c.unit_id, parent.c.parent_id, up.c.depth + 1)
            .join(parent, parent.c.id == up.c.ancestor_id)
            .where(parent.c.parent_id.is_not(None))
        )
        await self._db.execute(
            insert(ancestors).from_select(
                ["unit_id", "ancestor_id", "depth"],
                select(up.c.unit_id, up.c.ancestor_id, up.c.depth),
            )
        )

    def _direct_select(self) -> Any:
        status = initiatives.c.status
        approved = status == InitiativeStatus.APPROVED.value
        return (
            select(
                ancestors.c.ancestor_id,
                initiatives.c.phase_id,
                func.sum(case((approved, 1), else_=0)),
                func.sum(case((status == InitiativeStatus.PENDING.value, 1), else_=0)),
                func.sum(case((status == InitiativeStatus.RETURNED.value, 1), else_=0)),
                literal(0),
                func.sum(case((approved, func.coalesce(initiatives.c.benefit_vnd, 0)), else_=0)),
            )
            .join(ancestors, ancestors.c.unit_id == initiatives.c.unit_id)
            .where(initiatives.c.phase_id.is_not(None))
            .group_by(ancestors.c.ancestor_id, initiatives.c.phase_id)
        )

    async def rebuild_counts(self) -> None:
        """Recompute every unit's figures from the initiatives themselves.

        Initiatives are summed per grassroots unit first and the sums rolled up through
        the closure here: joining millions of initiatives to the closure in SQL took
        about ten times longer at 2.000.000 initiatives.
        """
        status = initiatives.c.status
        approved = status == InitiativeStatus.APPROVED.value
        per_unit = await self._db.execute(
            select(
                initiatives.c.unit_id,
                initiatives.c.phase_id,
                func.sum(case((approved, 1), else_=0)),
                func.sum(case((status == InitiativeStatus.PENDING.value, 1), else_=0)),
                func.sum(case((status == InitiativeStatus.RETURNED.value, 1), else_=0)),
                func.sum(case((approved, func.coalesce(initiatives.c.benefit_vnd, 0)), else_=0)),
            )
            .where(initiatives.c.phase_id.is_not(None))
            .group_by(initiatives.c.unit_id, initiatives.c.phase_id)
        )
        sums: dict[tuple[int, int], list[int]] = {}
        for row in per_unit:
            r: tuple[Any, ...] = tuple(row)
            sums[(int(r[0]), int(r[1]))] = [int(r[2]), int(r[3]), int(r[4]), 0, int(r[5])]
        people = await self._db.execute(
            select(participants.c.unit_id, participants.c.phase_id, func.count())
            .where(participants.c.approved > 0)
            .group_by(participants.c.unit_id, participants.c.phase_id)
        )
        for row in people:
            r = tuple(row)
            sums.setdefault((int(r[0]), int(r[1])), [0, 0, 0, 0, 0])[3] = int(r[2])
        above: dict[int, list[int]] = {}
        for row in await self._db.execute(select(ancestors.c.unit_id, ancestors.c.ancestor_id)):
            above.setdefault(row.unit_id, []).append(row.ancestor_id)
        totals: dict[tuple[int, int], list[int]] = {}
        for (unit_id, phase_id), values in sums.items():
            for ancestor in above.get(unit_id, [unit_id]):
                total = totals.setdefault((ancestor, phase_id), [0, 0, 0, 0, 0])
                for index, value in enumerate(values):
                    total[index] += value
        await self._db.execute(delete(counts))
        rows = [
            {"unit_id": unit_id, "phase_id": phase_id, **dict(zip(_COUNTERS, values, strict=True))}
            for (unit_id, phase_id), values in totals.items()
        ]
        for start in range(0, len(rows), 5000):
            await self._db.execute(insert(counts), rows[start : start + 5000])

    async def direct_counts(self) -> list[tuple[int, int, int, int, int, int, int]]:
        """(unit, phase, approved, pending, returned, people, benefit) counted from the
        initiatives without the running figures, for checking them."""
        people = await self._direct_people()
        result = []
        for row in await self._db.execute(self._direct_select()):
            r: tuple[Any, ...] = tuple(row)
            values = (int(r[2]), int(r[3]), int(r[4]), people.get((int(r[0]), int(r[1])), 0),
                      int(r[6]))  # fmt: skip
            # A unit whose initiatives are all rejected or drafts has nothing to count, and
            # the running figures hold no row for it either.
            if any(values):
                result.append((int(r[0]), int(r[1]), *values))
        return sorted(result)

    async def _direct_people(self) -> dict[tuple[int, int], int]:
        """Distinct authors and co-authors of approved initiatives, from the initiatives."""
        persons: dict[tuple[int, int], set[str]] = {}
        approved = and_(
            initiatives.c.status == InitiativeStatus.APPROVED.value,
            initiatives.c.phase_id.is_not(None),
        )
        for row in await self._db.execute(
            select(initiatives.c.unit_id, initiatives.c.phase_id, initiatives.c.author_id).where(
                approved
            )
        ):
            persons.setdefault((row.unit_id, row.phase_id), set()).add(f"m:{row.author_id}")
        for row in await self._db.execute(
            select(initiatives.c.unit_id, initiatives.c.phase_id, coauthors.c.name)
            .join(coauthors, coauthors.c.initiative_id == initiatives.c.id)
            .where(approved)
        ):
            key = f"n:{normalize_search(row.name)}"[:120]
            persons.setdefault((row.unit_id, row.phase_id), set()).add(key)
        closure: dict[int, list[int]] = {}
        for row in await self._db.execute(select(ancestors.c.unit_id, ancestors.c.ancestor_id)):
            closure.setdefault(row.unit_id, []).append(row.ancestor_id)
        result: dict[tuple[int, int], int] = {}
        for (unit_id, phase_id), names in persons.items():
            for ancestor in closure.get(unit_id, [unit_id]):
                result[(ancestor, phase_id)] = result.get((ancestor, phase_id), 0) + len(names)
        return result

    async def stored_counts(self) -> list[tuple[int, int, int, int, int, int, int]]:
        """The same tuples from the running figures."""
        rows = await self._db.execute(
            select(counts.c.unit_id, counts.c.phase_id, *(counts.c[n] for n in _COUNTERS))
        )
        result = []
        for row in rows:
            r: tuple[Any, ...] = tuple(int(value) for value in row)
            if any(r[2:]):
                result.append((r[0], r[1], r[2], r[3], r[4], r[5], r[6]))
        return sorted(result)


_NUDGE = _by_dialect(lambda insert_: insert_(nudges).on_conflict_do_nothing())
_MILESTONE = _by_dialect(lambda insert_: insert_(milestones).on_conflict_do_nothing())


class SqlNudgeLog:
    """Nudges sent and milestones reached, in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def nudged_on(self, member_id: int, day: dt.date) -> bool:
        """Whether the member got a nudge on that day."""
        query = select(nudges.c.id).where(nudges.c.member_id == member_id, nudges.c.day == day)
        return (await self._db.execute(query.limit(1))).first() is not None

    async def sent_at(self, member_id: int, key: str) -> dt.datetime | None:
        """When the nudge with this key went to the member, if it did."""
        query = select(nudges.c.sent_at).where(nudges.c.member_id == member_id, nudges.c.key == key)
        value = (await self._db.execute(query)).scalar_one_or_none()
        return value if isinstance(value, dt.datetime) else None

    async def record(
        self, member_id: int, kind: str, key: str, day: dt.date, now: dt.datetime
    ) -> bool:
        """Record a nudge; False when this one was sent before."""
        values = {"member_id": member_id, "kind": kind, "key": key, "day": day, "sent_at": now}
        result = await self._db.execute(_NUDGE[self._db.dialect.name], values)
        return bool(result.rowcount == 1)

    async def stale_drafts(self, cutoff: dt.datetime) -> list[tuple[Initiative, Member]]:
        """Drafts untouched since ``cutoff``, with the member who writes them."""
        rows = (
            await self._db.execute(
                _with_flags().where(
                    initiatives.c.status == InitiativeStatus.DRAFT.value,
                    initiatives.c.updated_at <= cutoff,
                )
            )
        ).all()
        found = await SqlInitiativeRepository(self._db)._with_children(rows)
        writers = await SqlMemberRepository(self._db, Prefetched()).by_ids(
            [i.entered_by_id for i in found]
        )
        return [(i, writers[i.entered_by_id]) for i in found if i.entered_by_id in writers]

    async def reach(
        self, key: str, unit_id: int | None, phase_id: int, percent: int, now: dt.datetime
    ) -> bool:
        """Record a milestone; False when it was reached before."""
        values = {"key": key, "unit_id": unit_id, "phase_id": phase_id, "percent": percent,
                  "reached_at": now}  # fmt: skip
        result = await self._db.execute(_MILESTONE[self._db.dialect.name], values)
        return bool(result.rowcount == 1)

    async def milestones_since(self, since: dt.datetime) -> list[tuple[str, int | None, int, int]]:
        """Milestones reached since then: key, unit (None for the programme), phase, percent."""
        rows = await self._db.execute(
            select(milestones).where(milestones.c.reached_at >= since).order_by(milestones.c.key)
        )
        return [(r.key, r.unit_id, r.phase_id, r.percent) for r in rows]

    async def members_below(self, unit_id: int | None, limit: int) -> list[Member]:
        """Members of the unit's subtree (everyone for None) who accept nudges."""
        query = select(members).where(members.c.nudges.is_(True), members.c.unit_id.is_not(None))
        if unit_id is not None:
            below = select(ancestors.c.unit_id).where(ancestors.c.ancestor_id == unit_id)
            query = query.where(members.c.unit_id.in_(below))
        rows = await self._db.execute(query.order_by(members.c.id).limit(limit))
        return [_member(row) for row in rows]

    async def everyone_below(self, unit_ids: Sequence[int]) -> list[int]:
        """Ids of every member in the subtrees of these units."""
        below = select(ancestors.c.unit_id).where(ancestors.c.ancestor_id.in_(set(unit_ids)))
        rows = await self._db.execute(select(members.c.id).where(members.c.unit_id.in_(below)))
        return [int(row.id) for row in rows]

    async def with_targets(self, phase_id: int) -> list[Figures]:
        """The figures of every unit that has a target for the phase."""
        rows = await self._db.execute(
            select(units, *(counts.c[name] for name in _COUNTERS), targets.c.target.label("goal"))
            .join(targets, and_(targets.c.unit_id == units.c.id, targets.c.phase_id == phase_id))
            .outerjoin(counts, and_(counts.c.unit_id == units.c.id, counts.c.phase_id == phase_id))
        )
        progress = SqlProgressRepository(self._db)
        return [progress._figures(_unit(row), row, int(row.goal)) for row in rows]


class SqlOutbox:
    """The delivery queue in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def create(
        self,
        kind: str,
        text: str,
        member_ids: Sequence[int],
        sender_id: int | None,
        now: dt.datetime,
        extra: BroadcastExtras,
    ) -> int | None:
        """Queue a message to the reachable members among these (and to ``extra.chats``);
        return the broadcast id, or None when one with ``extra.key`` exists already."""
        if extra.key is not None and await self.keyed(extra.key):
            return None
        result = await self._db.execute(
            insert(broadcasts),
            {"kind": kind, "created_by_id": sender_id, "text": text, "status": "running",
             "created_at": now, "photo": extra.photo, "image": extra.image, "key": extra.key,
             "buttons": [[list(b) for b in row] for row in extra.buttons] or None,
             "card_initiative_id": extra.card[0] if extra.card else None,
             "card_version": extra.card[1] if extra.card else None},
        )  # fmt: skip
        broadcast_id = _new_id(result)
        ids = sorted(set(member_ids))
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            reachable = select(
                literal(broadcast_id), members.c.id, members.c.external_id,
                literal(OutgoingState.QUEUED.value), literal(0), literal(extra.urgent),
            ).where(
                members.c.id.in_(chunk), members.c.reachable.is_(True),
                members.c.channel == "telegram",
            )  # fmt: skip
            await self._db.execute(
                insert(outgoing).from_select(
                    ["broadcast_id", "member_id", "chat_id", "state", "attempts", "urgent"],
                    reachable,
                )
            )
        if extra.chats:
            await self._db.execute(
                insert(outgoing),
                [{"broadcast_id": broadcast_id, "member_id": None, "chat_id": chat,
                  "state": OutgoingState.QUEUED.value, "attempts": 0, "urgent": extra.urgent}
                 for chat in sorted(set(extra.chats))],
            )  # fmt: skip
        return broadcast_id

    async def claim(self, limit: int) -> list[Outgoing]:
        """Mark up to ``limit`` queued messages as being sent and return them: the urgent
        ones (notifications) first, then bulk in the order queued."""
        ids: list[int] = []
        for urgent in (True, False):
            ids += (
                await self._db.execute(
                    select(outgoing.c.id)
                    .where(outgoing.c.state == OutgoingState.QUEUED.value,
                           outgoing.c.urgent == urgent)
                    .order_by(outgoing.c.id)
                    .limit(limit - len(ids))
                    .with_for_update(skip_locked=True)
                )
            ).scalars()  # fmt: skip
            if ids:
                break
        if not ids:
            return []
        await self._db.execute(
            update(outgoing)
            .where(outgoing.c.id.in_(ids))
            .values(state=OutgoingState.SENDING.value, attempts=outgoing.c.attempts + 1)
        )
        rows = await self._db.execute(
            select(outgoing, broadcasts.c.text, broadcasts.c.photo, broadcasts.c.buttons,
                   broadcasts.c.card_initiative_id, broadcasts.c.card_version,
                   broadcasts.c.image.is_not(None).label("has_image"))
            .join(broadcasts, broadcasts.c.id == outgoing.c.broadcast_id)
            .where(outgoing.c.id.in_(ids))
            .order_by(outgoing.c.id)
        )  # fmt: skip
        return [
            Outgoing(r.id, r.broadcast_id, r.member_id, r.chat_id, r.text, r.attempts,
                     r.photo, bool(r.has_image),
                     tuple(tuple((str(b[0]), str(b[1])) for b in row) for row in r.buttons or ()),
                     (int(r.card_initiative_id), int(r.card_version))
                     if r.card_initiative_id is not None else None, bool(r.urgent))
            for r in rows
        ]  # fmt: skip

    async def keyed(self, key: str) -> bool:
        """Whether a broadcast with this key was made."""
        query = select(broadcasts.c.id).where(broadcasts.c.key == key)
        return (await self._db.execute(query)).first() is not None

    async def image(self, broadcast_id: int) -> tuple[str | None, bytes | None]:
        """The broadcast's photo: its file id once uploaded, else the picture to upload."""
        query = select(broadcasts.c.photo, broadcasts.c.image).where(
            broadcasts.c.id == broadcast_id
        )
        row = (await self._db.execute(query)).first()
        return (row.photo, row.image) if row is not None else (None, None)

    async def uploaded(self, broadcast_id: int, file_id: str) -> None:
        """The picture is on the channel's servers: send its file id from now on."""
        await self._db.execute(
            update(broadcasts)
            .where(broadcasts.c.id == broadcast_id)
            .values(photo=file_id, image=None)
        )

    async def finish(
        self, outgoing_id: int, state: OutgoingState, now: dt.datetime, error: str | None
    ) -> None:
        """Record how a message ended."""
        await self._db.execute(
            update(outgoing)
            .where(outgoing.c.id == outgoing_id)
            .values(state=state.value, sent_at=now, error=error)
        )

    async def requeue(
        self, outgoing_id: int, count_attempt: bool, error: str | None = None
    ) -> None:
        """Put a message back in the queue."""
        attempts = outgoing.c.attempts if count_attempt else outgoing.c.attempts - 1
        await self._db.execute(
            update(outgoing)
            .where(outgoing.c.id == outgoing_id)
            .values(state=OutgoingState.QUEUED.value, attempts=attempts, error=error)
        )

    async def recover(self) -> int:
        """Put messages left mid-send by a crash back in the queue; return how many."""
        result = await self._db.execute(
            update(outgoing)
            .where(outgoing.c.state == OutgoingState.SENDING.value)
            .values(state=OutgoingState.QUEUED.value)
        )
        return int(result.rowcount or 0)

    async def unreachable(self, member_id: int) -> None:
        """The member blocked the bot."""
        await self._db.execute(
            update(members).where(members.c.id == member_id).values(reachable=False)
        )

    async def tally(self, broadcast_id: int) -> dict[OutgoingState, int]:
        """How many messages of a broadcast are in each state."""
        rows = await self._db.execute(
            select(outgoing.c.state, func.count())
            .where(outgoing.c.broadcast_id == broadcast_id)
            .group_by(outgoing.c.state)
        )
        found = {OutgoingState(state): int(count) for state, count in map(tuple, rows)}
        return {state: found.get(state, 0) for state in OutgoingState}

    async def backlog(self, urgent_only: bool = False) -> int:
        """How many messages of all broadcasts are still to send."""
        waiting = [OutgoingState.QUEUED.value, OutgoingState.SENDING.value]
        query = select(func.count()).select_from(outgoing).where(outgoing.c.state.in_(waiting))
        if urgent_only:
            query = query.where(outgoing.c.urgent.is_(True))
        return int((await self._db.execute(query)).scalar_one())

    async def cancel(self, broadcast_id: int) -> int:
        """Stop a broadcast: its queued messages are not sent; return how many."""
        await self._db.execute(
            update(broadcasts).where(broadcasts.c.id == broadcast_id).values(status="cancelled")
        )
        result = await self._db.execute(
            update(outgoing)
            .where(
                outgoing.c.broadcast_id == broadcast_id,
                outgoing.c.state == OutgoingState.QUEUED.value,
            )
            .values(state=OutgoingState.CANCELLED.value)
        )
        return int(result.rowcount or 0)

    async def sender_of(self, broadcast_id: int) -> int | None:
        """Who started a broadcast."""
        query = select(broadcasts.c.created_by_id).where(broadcasts.c.id == broadcast_id)
        value = (await self._db.execute(query)).scalar_one_or_none()
        return int(value) if value is not None else None

    async def close(self, broadcast_id: int) -> bool:
        """Mark a broadcast done; False when it was already closed."""
        result = await self._db.execute(
            update(broadcasts)
            .where(broadcasts.c.id == broadcast_id, broadcasts.c.status == "running")
            .values(status="done")
        )
        return bool(result.rowcount == 1)

    async def show_progress(self, broadcast_id: int, chat_id: str, message_id: int) -> bool:
        """Remember where the broadcast's progress message is; False once it has ended.

        One UPDATE that returns the status: racing ``close``, it either comes first (and
        the sender finds the message) or sees the broadcast ended (and its caller acts)."""
        result = await self._db.execute(
            update(broadcasts)
            .where(broadcasts.c.id == broadcast_id)
            .values(progress_chat_id=chat_id, progress_message_id=message_id)
            .returning(broadcasts.c.status)
        )
        return result.scalar_one_or_none() == "running"

    async def progress_message(self, broadcast_id: int) -> tuple[str, int] | None:
        """Where the broadcast's progress message is, if it was remembered."""
        query = select(broadcasts.c.progress_chat_id, broadcasts.c.progress_message_id).where(
            broadcasts.c.id == broadcast_id
        )
        row = (await self._db.execute(query)).first()
        if row is None or row.progress_chat_id is None or row.progress_message_id is None:
            return None
        return str(row.progress_chat_id), int(row.progress_message_id)

    async def set_reachable(self, channel: str, external_id: str, reachable: bool) -> bool:
        """A member blocked or unblocked the bot; False for someone unknown."""
        result = await self._db.execute(
            update(members)
            .where(members.c.channel == channel, members.c.external_id == external_id)
            .values(reachable=reachable)
        )
        return bool(result.rowcount)


class SqlWeeklySource:
    """What a week's commendations are made of, in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def approvals(
        self, start: dt.datetime, end: dt.datetime, under: int | None = None
    ) -> list[Approval]:
        """Initiatives approved in [start, end) and still approved."""
        approved = select(events.c.initiative_id).where(
            events.c.action == "approve", events.c.at >= start, events.c.at < end
        )
        query = (
            select(initiatives.c.id, initiatives.c.unit_id, initiatives.c.author_id,
                   initiatives.c.title, initiatives.c.benefit_vnd, initiatives.c.confidential,
                   initiatives.c.phase_id, members.c.full_name, members.c.display_name,
                   members.c.named)
            .join(members, members.c.id == initiatives.c.author_id)
            .where(initiatives.c.status == InitiativeStatus.APPROVED.value,
                   initiatives.c.id.in_(approved))
            .order_by(initiatives.c.id)
        )  # fmt: skip
        if under is not None:
            below = select(ancestors.c.unit_id).where(ancestors.c.ancestor_id == under)
            query = query.where(initiatives.c.unit_id.in_(below))
        return [
            Approval(r.id, r.unit_id, r.author_id, r.full_name or r.display_name,
                     bool(r.named), r.title or "", int(r.benefit_vnd or 0),
                     r.confidential is not False, r.phase_id)
            for r in await self._db.execute(query)
        ]  # fmt: skip

    async def parents(self) -> dict[int, int | None]:
        """Every unit with its parent."""
        rows = await self._db.execute(select(units.c.id, units.c.parent_id))
        return {int(r.id): r.parent_id for r in rows}

    async def units(self, unit_ids: Sequence[int]) -> dict[int, Unit]:
        """Units by id."""
        found: dict[int, Unit] = {}
        ids = sorted(set(unit_ids))
        for start in range(0, len(ids), 5000):
            rows = await self._db.execute(
                select(units).where(units.c.id.in_(ids[start : start + 5000]))
            )
            found.update((row.id, _unit(row)) for row in rows)
        return found

    async def recipients(self) -> list[tuple[int, int, str]]:
        """Members the bot can reach who accept announcements."""
        rows = await self._db.execute(
            select(members.c.id, members.c.unit_id, members.c.language).where(
                members.c.unit_id.is_not(None), members.c.nudges.is_(True),
                members.c.reachable.is_(True), members.c.channel == "telegram",
            )
        )  # fmt: skip
        return [(int(r.id), int(r.unit_id), str(r.language)) for r in rows]


def _linked(row: Row[Any]) -> LinkedChat:
    return LinkedChat(row.id, row.unit_id, row.chat_id, row.title, bool(row.active),
                      row.linked_by_id, row.code_expires_at)  # fmt: skip


class SqlChatLinks:
    """Units' Telegram groups and channels, in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def add_code(
        self,
        unit_id: int,
        code_hash: str,
        expires_at: dt.datetime,
        member_id: int,
        now: dt.datetime,
    ) -> None:
        """Record a one-time code that links a chat to the unit."""  # fmt: skip
        await self._db.execute(
            insert(linked_chats),
            {"unit_id": unit_id, "code_hash": code_hash, "code_expires_at": expires_at,
             "linked_by_id": member_id, "linked_at": now, "active": False},
        )  # fmt: skip

    async def by_code(self, code_hash: str) -> LinkedChat | None:
        """The pending link a code stands for."""
        query = select(linked_chats).where(linked_chats.c.code_hash == code_hash)
        row = (await self._db.execute(query)).first()
        return _linked(row) if row is not None else None

    async def link(
        self,
        unit_id: int,
        chat_id: str,
        title: str,
        member_id: int,
        now: dt.datetime,
        code_id: int | None,
    ) -> None:
        """Link a chat to a unit (moving it from another unit); a code is used up."""  # fmt: skip
        await self._db.execute(delete(linked_chats).where(linked_chats.c.chat_id == chat_id))
        values = {"unit_id": unit_id, "chat_id": chat_id, "title": title[:255],
                  "linked_by_id": member_id, "linked_at": now, "active": True,
                  "code_hash": None, "code_expires_at": None}  # fmt: skip
        if code_id is not None:
            await self._db.execute(
                update(linked_chats).where(linked_chats.c.id == code_id).values(**values)
            )
        else:
            await self._db.execute(insert(linked_chats), values)

    async def unlink(self, chat_id: str) -> int | None:
        """The chat is no longer linked; the unit it was linked to, if any."""
        link = await self.by_chat(chat_id)
        if link is None or not link.active:
            return None
        await self._db.execute(
            update(linked_chats).where(linked_chats.c.id == link.id).values(active=False)
        )
        return link.unit_id

    async def of_units(self, unit_ids: Sequence[int]) -> dict[int, list[LinkedChat]]:
        """The chats linked to these units (active ones), by unit."""
        found: dict[int, list[LinkedChat]] = {}
        rows = await self._db.execute(
            select(linked_chats)
            .where(linked_chats.c.unit_id.in_(set(unit_ids)), linked_chats.c.active.is_(True))
            .order_by(linked_chats.c.id)
        )
        for row in rows:
            found.setdefault(int(row.unit_id), []).append(_linked(row))
        return found

    async def by_chat(self, chat_id: str) -> LinkedChat | None:
        """The link of a chat, if it has one."""
        query = select(linked_chats).where(linked_chats.c.chat_id == chat_id)
        row = (await self._db.execute(query)).first()
        return _linked(row) if row is not None else None
