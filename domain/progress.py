"""Progress against targets: phases, the running figures of every unit, and their upkeep."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from domain.errors import InputError
from domain.model import CountChange, Figures, Initiative, InitiativeStatus, Phase
from domain.parsing import normalize_search
from domain.ports import ProgressRepository, UnitOfWorkFactory
from domain.text import Verbatim, _
from domain.unit_import import ImportProblem, UnitImportError, decode_units_csv

COUNTED = {
    InitiativeStatus.APPROVED: "approved",
    InitiativeStatus.PENDING: "pending",
    InitiativeStatus.RETURNED: "returned",
}
MAX_TARGET = 10_000_000


def read_target(typed: str) -> int | None:
    """A target as typed, "1.500" or "1500"; None unless a whole number from 1 to
    MAX_TARGET in ASCII digits ("²" is a digit to Python, but not a number)."""
    digits = typed.replace(".", "").replace(",", "").replace(" ", "")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > len(str(MAX_TARGET)):
        return None
    return int(digits) if 0 < int(digits) <= MAX_TARGET else None


def persons(initiative: Initiative) -> list[str]:
    """Who takes part in an initiative: its author, and its co-authors by name."""
    names = {f"n:{normalize_search(c.name)}" for c in initiative.coauthors}
    return [f"m:{initiative.author_id}", *sorted(names)]


async def count_change(
    uow: PhaseSource,
    initiative: Initiative,
    before: InitiativeStatus | None,
    after: InitiativeStatus,
) -> None:
    """Keep the figures of the initiative's unit and every unit above it in step."""
    if initiative.phase_id is None or before == after:
        return
    moves = {name: 0 for name in COUNTED.values()}
    for status, step in ((before, -1), (after, 1)):
        if status in COUNTED:
            moves[COUNTED[status]] += step
    people = 0
    if moves["approved"]:
        for person in persons(initiative):
            people += await uow.progress.participate(
                initiative.unit_id, initiative.phase_id, person, moves["approved"]
            )
    change = CountChange(
        approved=moves["approved"],
        pending=moves["pending"],
        returned=moves["returned"],
        people=people,
        benefit_vnd=moves["approved"] * (initiative.benefit_vnd or 0),
    )
    if change != CountChange():
        await uow.progress.change(initiative.unit_id, initiative.phase_id, change)


class PhaseSource(Protocol):
    """Where the phases are kept."""

    progress: ProgressRepository


async def phase_on(uow: PhaseSource, day: dt.date) -> Phase | None:
    """The phase a day falls in."""
    for phase in await uow.progress.phases():
        if phase.starts_on <= day <= phase.ends_on:
            return phase
    return None


async def current_phase(
    uow: PhaseSource, today: dt.date, phase_id: int | None = None
) -> Phase | None:
    """The phase asked for; else today's; else the latest that started; else the first."""
    phases = await uow.progress.phases()
    if phase_id is not None:
        return next((p for p in phases if p.id == phase_id), None)
    current = next((p for p in phases if p.starts_on <= today <= p.ends_on), None)
    if current is not None:
        return current
    started = [p for p in phases if p.starts_on <= today]
    return started[-1] if started else (phases[0] if phases else None)


def phase_pace(phase: Phase, today: dt.date) -> float:
    """Where a unit on a straight line to its target should be today, in percent."""
    total = (phase.ends_on - phase.starts_on).days + 1
    elapsed = (min(max(today, phase.starts_on), phase.ends_on) - phase.starts_on).days + 1
    return round(100 * elapsed / total, 1)


def ranked(figures: Sequence[Figures]) -> list[Figures]:
    """Best first: percent of target, then approved count; units without a target last."""
    return sorted(
        figures,
        key=lambda f: (f.percent is None, -(f.percent or Decimal(0)), -f.approved, f.unit.name),
    )


async def add_phase(
    units_of_work: UnitOfWorkFactory,
    code: str,
    name: str,
    starts_on: dt.date,
    ends_on: dt.date,
    target: int | None,
) -> Phase:
    """Create or change a phase; phases may not overlap."""
    if ends_on < starts_on:
        raise InputError(_("A phase must end after it starts."))
    async with units_of_work() as uow:
        for other in await uow.progress.phases():
            if other.code != code and other.starts_on <= ends_on and starts_on <= other.ends_on:
                raise InputError(_("The phase overlaps phase {code}.", code=Verbatim(other.code)))
        phase = await uow.progress.add_phase(
            Phase(id=0, code=code, name=name, starts_on=starts_on, ends_on=ends_on, target=target)
        )
        await uow.commit()
    return phase


async def import_targets(units_of_work: UnitOfWorkFactory, data: bytes, now: dt.datetime) -> int:
    """Import ``unit_code,phase,target`` lines, all or nothing; return how many were set."""
    content = decode_units_csv(data)
    problems: list[ImportProblem] = []
    async with units_of_work() as uow:
        phases = {p.code: p for p in await uow.progress.phases()}
        known = await uow.units.parents_by_code()
        wanted: dict[tuple[str, str], tuple[int, int]] = {}
        rows = list(csv.reader(io.StringIO(content)))
        for line, fields in enumerate(rows, start=1):
            if not fields or all(not f.strip() for f in fields):
                continue
            if line == 1 and [f.strip().lower() for f in fields] == [
                "unit_code",
                "phase",
                "target",
            ]:
                continue
            if len(fields) != 3:
                problems.append(ImportProblem(line, _(
                    "Line {line}: expected 3 columns (unit_code, phase, target), found {count}.",
                    line=line, count=len(fields))))  # fmt: skip
                continue
            code, phase_code, raw = (f.strip() for f in fields)
            if code not in known:
                problems.append(ImportProblem(line, _(
                    "Line {line}: there is no unit with the code “{code}”.",
                    line=line, code=Verbatim(code))))  # fmt: skip
            if phase_code not in phases:
                problems.append(ImportProblem(line, _(
                    "Line {line}: there is no phase “{phase}”.",
                    line=line, phase=Verbatim(phase_code))))  # fmt: skip
            target = read_target(raw)
            if target is None:
                problems.append(ImportProblem(line, _(
                    "Line {line}: the target must be a whole number from 1 to {maximum}.",
                    line=line, maximum=MAX_TARGET)))  # fmt: skip
                continue
            if (code, phase_code) in wanted:
                problems.append(ImportProblem(line, _(
                    "Line {line}: unit “{code}” already has a target for this phase on line "
                    "{first}.", line=line, code=Verbatim(code),
                    first=wanted[(code, phase_code)][1])))  # fmt: skip
                continue
            wanted[(code, phase_code)] = (target, line)
        if problems:
            raise UnitImportError(problems)
        ids = {}
        for code in {c for c, _p in wanted}:
            unit = await uow.units.by_code(code)
            if unit is not None:
                ids[code] = unit.id
        await uow.progress.set_targets(
            [(ids[c], phases[p].id, target) for (c, p), (target, _line) in wanted.items()], now
        )
        await uow.commit()
    return len(wanted)


async def import_groups(units_of_work: UnitOfWorkFactory, data: bytes) -> int:
    """Import ``group_code,group_name,unit_code`` lines, all or nothing; each group in the
    file gets exactly the units listed. Return how many groups were set."""
    content = decode_units_csv(data)
    problems: list[ImportProblem] = []
    groups: dict[str, tuple[str, list[int]]] = {}
    async with units_of_work() as uow:
        for line, fields in enumerate(csv.reader(io.StringIO(content)), start=1):
            if not fields or all(not f.strip() for f in fields):
                continue
            header = [f.strip().lower() for f in fields]
            if line == 1 and header == ["group_code", "group_name", "unit_code"]:
                continue
            if len(fields) != 3:
                problems.append(ImportProblem(line, _(
                    "Line {line}: expected 3 columns (group_code, group_name, unit_code), "
                    "found {count}.", line=line, count=len(fields))))  # fmt: skip
                continue
            code, name, unit_code = (f.strip() for f in fields)
            unit = await uow.units.by_code(unit_code)
            if unit is None:
                problems.append(ImportProblem(line, _(
                    "Line {line}: there is no unit with the code “{code}”.",
                    line=line, code=Verbatim(unit_code))))  # fmt: skip
                continue
            if not code or not name or len(code) > 32 or len(name) > 200:
                problems.append(ImportProblem(line, _(
                    "Line {line}: a group needs a code (at most 32 characters) and a name.",
                    line=line)))  # fmt: skip
                continue
            groups.setdefault(code, (name, []))[1].append(unit.id)
        if problems:
            raise UnitImportError(problems)
        await uow.progress.set_groups(groups)
        await uow.commit()
    return len(groups)
