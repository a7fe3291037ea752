"""What the Excel reports read: initiatives of a subtree a batch at a time, by id, each
batch in a handful of simple statements whatever its size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select

from domain.model import Coauthor, FieldOfUse, InitiativeStatus, SolutionKind, Unit
from domain.ports import InitiativeLine
from storage.executor import Executor
from storage.repositories._base import (
    _unit,
    ancestors,
    coauthors,
    events,
    initiatives,
    members,
    units,
)

# What a list of initiatives shows: everything sent for review; drafts are nobody's yet.
_LISTED = tuple(
    s.value
    for s in (
        InitiativeStatus.PENDING,
        InitiativeStatus.APPROVED,
        InitiativeStatus.RETURNED,
        InitiativeStatus.REJECTED,
    )
)
# The record's entries that decide a version, or take its decision back.
_DECIDING = ("approve", "return", "reject", "reopen")

_COLUMNS = (
    initiatives.c.id, initiatives.c.title, initiatives.c.kind, initiatives.c.field,
    initiatives.c.status, initiatives.c.author_id, initiatives.c.unit_id,
    initiatives.c.submitted_at, initiatives.c.effect, initiatives.c.benefit_vnd,
    initiatives.c.confidential, initiatives.c.confidential_note, initiatives.c.version,
)  # fmt: skip


class SqlReportSource:
    """The reports' reads in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def initiative_lines(
        self, root_id: int, phase_id: int, after_id: int, limit: int
    ) -> list[InitiativeLine]:
        """Submitted initiatives of a phase in the subtree of ``root_id`` with ids above
        ``after_id``, by id, at most ``limit``."""
        rows = (
            await self._db.execute(
                select(*_COLUMNS)
                .join(ancestors, ancestors.c.unit_id == initiatives.c.unit_id)
                .where(
                    ancestors.c.ancestor_id == root_id,
                    initiatives.c.phase_id == phase_id,
                    initiatives.c.status.in_(_LISTED),
                    initiatives.c.id > after_id,
                )
                .order_by(initiatives.c.id)
                .limit(limit)
            )
        ).all()
        if not rows:
            return []
        ids = [row.id for row in rows]
        names = await self._coauthors(ids)
        decisions = await self._decisions(ids)
        authors = await self._authors({row.author_id for row in rows})
        places = await self._units({row.unit_id for row in rows})
        return [self._line(row, names.get(row.id, []), decisions, authors, places)
                for row in rows]  # fmt: skip

    def _line(
        self,
        row: Row[Any],
        names: list[Coauthor],
        decisions: dict[int, Row[Any]],
        authors: dict[int, str],
        places: dict[int, Unit],
    ) -> InitiativeLine:
        decided = decisions.get(row.id)
        # A decision on an earlier version says nothing of the current one.
        if decided is not None and decided.version != row.version:
            decided = None
        return InitiativeLine(
            id=row.id,
            title=row.title or "",
            kind=SolutionKind(row.kind) if row.kind else None,
            field=FieldOfUse(row.field) if row.field else None,
            status=InitiativeStatus(row.status),
            author=authors.get(row.author_id, ""),
            coauthors=tuple(names),
            unit=places[row.unit_id],
            submitted_at=row.submitted_at,
            decided_at=decided.at if decided is not None else None,
            decision=decided.action if decided is not None else None,
            reason=decided.note if decided is not None else None,
            effect=row.effect,
            benefit_vnd=row.benefit_vnd,
            confidential=bool(row.confidential),
            confidential_note=row.confidential_note,
        )

    async def _coauthors(self, ids: Sequence[int]) -> dict[int, list[Coauthor]]:
        found: dict[int, list[Coauthor]] = {}
        for row in await self._db.execute(
            select(coauthors.c.initiative_id, coauthors.c.name, coauthors.c.share)
            .where(coauthors.c.initiative_id.in_(ids))
            .order_by(coauthors.c.initiative_id, coauthors.c.position)
        ):
            found.setdefault(row.initiative_id, []).append(Coauthor(row.name, row.share))
        return found

    async def _decisions(self, ids: Sequence[int]) -> dict[int, Row[Any]]:
        """The last deciding entry of each initiative (entries come in id order)."""
        last: dict[int, Row[Any]] = {}
        for row in await self._db.execute(
            select(events.c.initiative_id, events.c.action, events.c.version, events.c.note,
                   events.c.at)
            .where(events.c.initiative_id.in_(ids), events.c.action.in_(_DECIDING))
            .order_by(events.c.id)
        ):  # fmt: skip
            last[row.initiative_id] = row
        return last

    async def _authors(self, ids: set[int]) -> dict[int, str]:
        rows = await self._db.execute(
            select(members.c.id, members.c.full_name, members.c.display_name).where(
                members.c.id.in_(ids)
            )
        )
        return {row.id: row.full_name or row.display_name for row in rows}

    async def _units(self, ids: set[int]) -> dict[int, Unit]:
        rows = await self._db.execute(select(units).where(units.c.id.in_(ids)))
        return {row.id: _unit(row) for row in rows}

    async def unit_paths(self, unit_ids: Sequence[int]) -> dict[int, list[str]]:
        """The names of each unit's ancestors and its own, the top first."""
        paths: dict[int, list[str]] = {unit_id: [] for unit_id in unit_ids}
        if not paths:
            return paths
        rows = await self._db.execute(
            select(ancestors.c.unit_id, units.c.name)
            .join(units, units.c.id == ancestors.c.ancestor_id)
            .where(ancestors.c.unit_id.in_(set(unit_ids)))
            .order_by(ancestors.c.unit_id, ancestors.c.depth.desc())
        )
        for row in rows:
            paths[row.unit_id].append(row.name)
        return paths
