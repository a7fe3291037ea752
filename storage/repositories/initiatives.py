"""Initiatives with their co-authors, files and record of events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, func, insert, or_, select, true, update

from domain.model import (
    Attachment,
    AttachmentKind,
    Coauthor,
    FieldOfUse,
    HistoryEntry,
    Initiative,
    InitiativeStatus,
    SolutionKind,
    Step,
)
from domain.parsing import normalize_search
from domain.ports import NARROWED_COUNT_LIMIT, PendingFilter, Waiting
from domain.ports_lists import Found, Listed, ListQuery
from storage.executor import Executor
from storage.repositories import waiting
from storage.repositories._base import (
    _new_id,
    _unit,
    _with_flags,
    ancestors,
    attachments,
    coauthors,
    events,
    initiatives,
    members,
    units,
)
from storage.repositories.similar import FOUND, similar_values
from storage.repositories.waiting import narrowed as _narrowed

# Scalar columns shared one-to-one by an initiative and its row.
_INITIATIVE_FIELDS = (
    "author_id", "entered_by_id", "unit_id", "editing", "title", "problem", "solution",
    "applied", "applied_since", "effect", "benefit_vnd", "benefit_known", "benefit_range",
    "coauthors_done",
    "confidential", "confidential_note", "version", "phase_id", "created_at", "updated_at",
    "submitted_at",
)  # fmt: skip


def _initiative_values(initiative: Initiative) -> dict[str, Any]:
    values = {name: getattr(initiative, name) for name in _INITIATIVE_FIELDS}
    values["status"] = initiative.status.value
    values["step"] = initiative.step.value
    values["kind"] = initiative.kind.value if initiative.kind else None
    values["field"] = initiative.field.value if initiative.field else None
    values["search_text"] = normalize_search(initiative.title or "")
    values.update(similar_values(initiative.status, initiative.title, initiative.solution))
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


# What a list of initiatives shows: everything sent for review; drafts are nobody's yet.
_LISTED = [s.value for s in (InitiativeStatus.PENDING, InitiativeStatus.APPROVED,
                             InitiativeStatus.RETURNED, InitiativeStatus.REJECTED)]  # fmt: skip

_INITIATIVE_BY_ID = _with_flags().where(initiatives.c.id == bindparam("b_id"))


_UPDATE_INITIATIVE = update(initiatives).where(initiatives.c.id == bindparam("b_id"))


_DECIDE = (
    update(initiatives)
    .where(initiatives.c.id == bindparam("b_id"))
    .where(initiatives.c.version == bindparam("b_version"))
    .where(initiatives.c.status == bindparam("b_pending"))
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
        self, roots: Sequence[int], offset: int, limit: int, only: PendingFilter | None = None
    ) -> Waiting:
        """Pending initiatives in the subtrees of ``roots``, oldest first; ``only`` narrows."""
        tree = select(units.c.id).where(units.c.id.in_(set(roots))).cte("tree", recursive=True)
        tree = tree.union_all(select(units.c.id).where(units.c.parent_id == tree.c.id))
        condition = and_(
            initiatives.c.status == InitiativeStatus.PENDING.value,
            initiatives.c.unit_id.in_(select(tree.c.id)),
            *_narrowed(only),
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
        return Waiting(tuple(page), total, tuple((_unit(row), row.waiting) for row in per_unit))

    async def waiting_count(self, roots: Sequence[int], only: PendingFilter | None = None) -> int:
        """How many wait in the subtrees of ``roots``: unnarrowed, from the running
        figures of every phase and what waits outside any phase; else counted."""
        if not _narrowed(only):
            return await waiting.waiting_under(self._db, await waiting.outermost(self._db, roots))
        where = await waiting.scope(self._db, roots)
        return await waiting.counted(self._db, where, only)

    async def waiting_page(
        self, roots: Sequence[int], offset: int, limit: int, only: PendingFilter | None = None
    ) -> tuple[list[Initiative], int]:
        """A page of what waits in the subtrees of ``roots``, oldest first, and how many
        wait there in all (narrowed: counted up to one past NARROWED_COUNT_LIMIT), without
        counting per unit; the scope's size chooses how it is reached."""
        where = await waiting.scope(self._db, roots)
        total = where.waiting
        if _narrowed(only):
            total = await waiting.counted(self._db, where, only, NARROWED_COUNT_LIMIT + 1)
        if not limit or offset >= total:
            return [], total
        ids = waiting.reach(where, only, offset + limit, True, self._db.dialect.name)
        rows = await self._db.execute(
            _with_flags()
            .where(initiatives.c.id.in_(ids.offset(offset).limit(limit)))
            .order_by(*waiting.ORDER)
        )
        return await self._with_children(rows.all()), total

    async def listed_in(
        self, roots: Sequence[int], query: ListQuery, offset: int, limit: int
    ) -> Found:
        """Initiatives sent for review in the subtrees of ``roots``, newest first, as
        ``query`` narrows them: each folded word somewhere in the folded title or the
        author's folded name (a bounded scan of the scope with LIKE, the same on both
        engines), or the number."""
        conditions: list[Any] = [
            initiatives.c.unit_id.in_(
                select(ancestors.c.unit_id).where(ancestors.c.ancestor_id.in_(set(roots)))
            ),
            initiatives.c.status.in_([query.status.value] if query.status else _LISTED),
        ]  # fmt: skip
        # The authors a word names are found once (members are far fewer than
        # initiatives), not joined row by row.
        words = [or_(initiatives.c.search_text.contains(word, autoescape=True),
                     initiatives.c.author_id.in_(select(members.c.id).where(
                         members.c.search_name.contains(word, autoescape=True))))
                 for word in query.words]  # fmt: skip
        if query.number is not None:
            conditions.append(or_(initiatives.c.id == query.number, and_(true(), *words)))
        elif words:
            conditions.extend(words)
        total = (
            await self._db.execute(select(func.count()).select_from(initiatives).where(*conditions))
        ).scalar_one()
        rows = await self._db.execute(
            select(initiatives.c.id, initiatives.c.title, initiatives.c.status,
                   initiatives.c.unit_id, initiatives.c.submitted_at, initiatives.c.updated_at,
                   units.c.name.label("unit"), members.c.full_name, members.c.display_name)
            .join(units, units.c.id == initiatives.c.unit_id)
            .join(members, members.c.id == initiatives.c.author_id)
            .where(*conditions).order_by(initiatives.c.id.desc()).offset(offset).limit(limit)
        )  # fmt: skip
        return Found(tuple(
            Listed(row.id, row.title or "", InitiativeStatus(row.status),
                   row.full_name or row.display_name, row.unit_id, row.unit, row.submitted_at,
                   row.updated_at)
            for row in rows
        ), int(total))  # fmt: skip

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
        if result.rowcount != 1:
            return False
        # A rejected one was out of the similar-initiatives index: it is back in.
        row = (await self._db.execute(
            select(initiatives.c.title, initiatives.c.solution)
            .where(initiatives.c.id == initiative_id)
        )).one()  # fmt: skip
        await self._db.execute(
            update(initiatives).where(initiatives.c.id == initiative_id)
            .values(similar_values(InitiativeStatus.RETURNED, row.title, row.solution))
        )  # fmt: skip
        return True

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
        values: dict[str, Any] = {
            "b_id": initiative_id,
            "b_version": version,
            "b_pending": InitiativeStatus.PENDING.value,
            "status": status.value,
            "updated_at": now,
        }
        if status not in FOUND:
            # Turned down: out of the similar-initiatives index (the texts of what stays
            # in it, pending before, are folded already).
            values.update(similar_values(status, None, None))
        result = await self._db.execute(_DECIDE, values)
        self._loaded.pop(initiative_id, None)
        return bool(result.rowcount == 1)

    async def count(self, status: InitiativeStatus | None = None) -> int:
        """How many initiatives there are, optionally of one status."""
        query = select(func.count()).select_from(initiatives)
        if status is not None:
            query = query.where(initiatives.c.status == status.value)
        return int((await self._db.execute(query)).scalar_one())
