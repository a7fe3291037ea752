"""What the Excel reports read: initiatives of a subtree a batch at a time, unit by unit
and by id within a unit, each batch in a handful of simple statements whatever its size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, or_, select

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
# A batch of n initiatives reads the subtree's units n / 10 at a time: a grassroots unit
# lists about twenty a phase, so one read of units mostly fills a batch, and the
# initiatives read for it, sorted by unit and id, stay few.
_LISTED_PER_UNIT = 10
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
        self, root_id: int, phase_id: int, after: tuple[int, int], limit: int
    ) -> list[InitiativeLine]:
        """Submitted initiatives of a phase in the subtree of ``root_id`` after ``after``
        (a unit id and an initiative id), by unit id then id, at most ``limit``."""
        rows = await self._listed(root_id, phase_id, after, limit)
        if not rows:
            return []
        ids = [row.id for row in rows]
        names = await self._coauthors(ids)
        decisions = await self._decisions(ids)
        authors = await self._authors({row.author_id for row in rows})
        places = await self._units({row.unit_id for row in rows})
        return [self._line(row, names.get(row.id, []), decisions, authors, places)
                for row in rows]  # fmt: skip

    async def _listed(
        self, root_id: int, phase_id: int, after: tuple[int, int], limit: int
    ) -> list[Row[Any]]:
        """The rows of ``initiative_lines``, read a few units of the subtree at a time.

        Walking the phase's initiatives by id and keeping those of the subtree reads
        most of the table for every batch of a province; walking the subtree's units
        reads about what the batch returns (the index on unit and status finds them)."""
        found: list[Row[Any]] = []
        chunk_size = max(1, limit // _LISTED_PER_UNIT)
        start = after[0]
        while len(found) < limit:
            chunk = await self._subtree_units(root_id, start, chunk_size)
            if not chunk:
                break
            found += await self._listed_in(chunk, phase_id, after, limit - len(found))
            if len(chunk) < chunk_size:
                break
            start = chunk[-1] + 1
        return found

    async def _subtree_units(self, root_id: int, start: int, count: int) -> list[int]:
        """Up to ``count`` ids of units in the subtree of ``root_id`` from ``start`` on."""
        result = await self._db.execute(
            select(ancestors.c.unit_id)
            .where(ancestors.c.ancestor_id == root_id, ancestors.c.unit_id >= start)
            .order_by(ancestors.c.unit_id)
            .limit(count)
        )
        return list(result.scalars())

    async def _listed_in(
        self, unit_ids: list[int], phase_id: int, after: tuple[int, int], limit: int
    ) -> Sequence[Row[Any]]:
        """Submitted initiatives of a phase in these units (none of them below ``after``'s
        unit) after ``after``, by unit then id."""
        after_unit, after_id = after
        return (
            await self._db.execute(
                select(*_COLUMNS)
                .where(
                    initiatives.c.unit_id.in_(unit_ids),
                    initiatives.c.phase_id == phase_id,
                    initiatives.c.status.in_(_LISTED),
                    or_(initiatives.c.unit_id > after_unit, initiatives.c.id > after_id),
                )
                .order_by(initiatives.c.unit_id, initiatives.c.id)
                .limit(limit)
            )
        ).all()

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
