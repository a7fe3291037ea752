"""Phases, targets and the running figures of each unit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Row,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    update,
)

from domain.model import CountChange, Figures, InitiativeStatus, Phase, Unit
from domain.parsing import normalize_search
from domain.ports import EmulationGroup, UnitCounts
from storage.executor import Executor
from storage.repositories._base import (
    _by_dialect,
    _new_id,
    _unit,
    ancestors,
    coauthors,
    counts,
    emulation_groups,
    emulation_members,
    initiatives,
    participants,
    phases,
    targets,
    units,
)

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
        own_counts = and_(counts.c.unit_id == units.c.id, counts.c.phase_id == phase_id)
        own_target = and_(targets.c.unit_id == units.c.id, targets.c.phase_id == phase_id)
        if self._db.dialect.name == "postgresql":
            # Each unit's own row by its key: joined, PostgreSQL hashes every unit's figures
            # and targets (100.000 rows, 20 ms) for an upper unit's thousand children.
            own = select(counts).where(own_counts).limit(1).lateral()
            goal = select(targets.c.target).where(own_target).limit(1).lateral()
            query = (
                select(units, *(own.c[name] for name in _COUNTERS),
                       goal.c.target.label("goal"))
                .select_from(units.outerjoin(own, true()).outerjoin(goal, true()))
                .where(below)
            )  # fmt: skip
        else:
            query = (
                select(units, *(counts.c[name] for name in _COUNTERS),
                       targets.c.target.label("goal"))
                .outerjoin(counts, own_counts).outerjoin(targets, own_target).where(below)
            )  # fmt: skip
        result = []
        for row in await self._db.execute(query):
            figures = self._figures(_unit(row), row, int(row.goal) if row.goal else None)
            result.append(figures)
        return result

    async def with_targets(self, phase_id: int) -> list[Figures]:
        """The figures of every unit that has a target for the phase."""
        rows = await self._db.execute(
            select(units, *(counts.c[name] for name in _COUNTERS), targets.c.target.label("goal"))
            .join(targets, and_(targets.c.unit_id == units.c.id, targets.c.phase_id == phase_id))
            .outerjoin(counts, and_(counts.c.unit_id == units.c.id, counts.c.phase_id == phase_id))
        )
        return [self._figures(_unit(row), row, int(row.goal)) for row in rows]

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

    async def groups_of(self, unit_ids: Sequence[int], phase_id: int) -> list[EmulationGroup]:
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
            figures = await self.figures([_unit(r) for r in rows], phase_id)
            result.append(EmulationGroup(group.name, tuple(figures)))
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

    async def direct_counts(self) -> list[UnitCounts]:
        """Every unit's figures counted from the initiatives without the running figures,
        for checking them; units with nothing to count are left out."""
        people = await self._direct_people()
        result = []
        for row in await self._db.execute(self._direct_select()):
            r: tuple[Any, ...] = tuple(row)
            key = (int(r[0]), int(r[1]))
            values = (int(r[2]), int(r[3]), int(r[4]), people.get(key, 0), int(r[6]))
            # A unit whose initiatives are all rejected or drafts has nothing to count, and
            # the running figures hold no row for it either.
            if any(values):
                result.append(UnitCounts(*key, *values))
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

    async def stored_counts(self) -> list[UnitCounts]:
        """The same from the running figures."""
        rows = await self._db.execute(
            select(counts.c.unit_id, counts.c.phase_id, *(counts.c[n] for n in _COUNTERS))
        )
        result = []
        for row in rows:
            r = [int(value) for value in row]
            if any(r[2:]):
                result.append(UnitCounts(*r))
        return sorted(result)
