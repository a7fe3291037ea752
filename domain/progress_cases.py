"""Progress as data: where a unit stands against its target, how units rank, and the
targets admins set. /stats, /top and /targets render these; so will the web page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from domain.errors import InputError, NotAllowed, NotFound
from domain.model import Figures, Member, Phase, RoleKind, Unit
from domain.ports import InitiativeRepository, ProgressRepository, RoleRepository, UnitRepository
from domain.progress import MAX_TARGET, current_phase, phase_pace, ranked
from domain.roles import covers, units_held
from domain.text import Verbatim, _


class ProgressStore(Protocol):
    """What progress reads and writes: units, roles, figures and what awaits review."""

    units: UnitRepository
    roles: RoleRepository
    progress: ProgressRepository
    initiatives: InitiativeRepository


NO_PHASE = _("No phase of the programme has been set yet.")
JOIN_FIRST = _("Join your grassroots union first (/start).")
OWN_UNITS_ONLY = _("You may only look at your own units and those below.")
ADMINS_ONLY = _("This command is for union admins, once a phase is set.")


@dataclass(frozen=True, slots=True)
class Standing:
    """A unit's figures and its rank among the units beside it (1 of 1 when alone)."""

    figures: Figures
    rank: int
    of: int


@dataclass(frozen=True, slots=True)
class UnitProgress:
    """What an admin sees of a unit in their scope, and where they may go from it."""

    phase: Phase
    days_left: int
    own: Standing
    # Everything awaiting review in the unit, of any phase: what /pending counts.
    waiting_in_all: int
    # The units directly below, best first.
    children: tuple[Figures, ...]
    # The unit one level up, when it is still in the actor's scope.
    up: int | None
    other_phases: tuple[Phase, ...]


@dataclass(frozen=True, slots=True)
class PathProgress:
    """What a member sees: their unit and each unit above it, nearest first, ranked."""

    phase: Phase
    days_left: int
    path: tuple[Standing, ...]

    @property
    def own(self) -> Figures:
        """The member's own unit."""
        return self.path[0].figures


@dataclass(frozen=True, slots=True)
class ChildrenProgress:
    """The units directly below a unit, best first, against where they should be today."""

    unit: Unit
    phase: Phase
    # Percent of its target a unit on a straight line to it has reached today.
    pace: float
    children: tuple[Figures, ...]


@dataclass(frozen=True, slots=True)
class GroupRanking:
    """One emulation group, best first, and which of its units is the actor's."""

    name: str
    ranked: tuple[Figures, ...]
    mine: Unit


@dataclass(frozen=True, slots=True)
class Rankings:
    """The actor's unit among the units beside it and in its emulation groups."""

    phase: Phase
    days_left: int
    unit: Unit
    by_percent: tuple[Figures, ...]
    by_count: tuple[Figures, ...]
    groups: tuple[GroupRanking, ...]


@dataclass(frozen=True, slots=True)
class TargetSheet:
    """The units directly below an admin's unit with their targets, by code."""

    unit: Unit
    phase: Phase
    children: tuple[Figures, ...]


@dataclass(frozen=True, slots=True)
class TargetSet:
    """A unit's target for a phase, as now recorded."""

    unit: Unit
    phase: Phase
    target: int


async def _standing(store: ProgressStore, figures: Figures, phase: Phase) -> Standing:
    siblings = ranked(await store.progress.children_figures(figures.unit.parent_id, phase.id))
    for index, sibling in enumerate(siblings, start=1):
        if sibling.unit.id == figures.unit.id:
            return Standing(figures, index, len(siblings))
    return Standing(figures, 1, 1)


async def _admin_units(store: ProgressStore, actor: Member) -> list[int]:
    return await units_held(store, actor.id, RoleKind.ADMIN)


async def _unit_view(
    store: ProgressStore, unit: Unit, phase: Phase, admin_units: list[int], today: dt.date
) -> UnitProgress:
    own = (await store.progress.figures([unit], phase.id))[0]
    children = ranked(await store.progress.children_figures(unit.id, phase.id))
    up = unit.parent_id if unit.parent_id is not None and unit.id not in admin_units else None
    return UnitProgress(
        phase=phase,
        days_left=phase.days_left(today),
        own=await _standing(store, own, phase),
        waiting_in_all=await store.initiatives.waiting_count([unit.id]),
        children=tuple(children),
        up=up,
        other_phases=tuple(p for p in await store.progress.phases() if p.id != phase.id),
    )


async def progress_overview(
    store: ProgressStore, actor: Member, today: dt.date
) -> UnitProgress | PathProgress:
    """/stats: an admin's first unit with the units below it; a member's unit and the
    units above it. NotFound without a phase, or for someone who has not joined."""
    phase = await current_phase(store, today)
    if phase is None:
        raise NotFound(NO_PHASE)
    admin_units = await _admin_units(store, actor)
    if admin_units:
        unit = await store.units.get(admin_units[0])
        if unit is not None:
            return await _unit_view(store, unit, phase, admin_units, today)
    unit = await store.units.get(actor.unit_id) if actor.unit_id is not None else None
    if unit is None:
        raise NotFound(JOIN_FIRST)
    path = await store.progress.figures(await store.units.path(unit), phase.id)
    standings = tuple([await _standing(store, figures, phase) for figures in path])
    return PathProgress(phase=phase, days_left=phase.days_left(today), path=standings)


async def _in_scope(
    store: ProgressStore, actor: Member, unit_id: int, phase_id: int | None, today: dt.date
) -> tuple[Unit, Phase, list[int]]:
    """The unit and phase asked for, and the actor's admin units; NotAllowed for a unit
    outside them, or one that does not exist (not saying which)."""
    unit = await store.units.get(unit_id)
    phase = await current_phase(store, today, phase_id)
    admin_units = await _admin_units(store, actor)
    if unit is None or phase is None or not await covers(store, admin_units, unit):
        raise NotAllowed(OWN_UNITS_ONLY)
    return unit, phase, admin_units


async def unit_progress(
    store: ProgressStore, actor: Member, unit_id: int, phase_id: int | None, today: dt.date
) -> UnitProgress:
    """A unit of the admin's own or below, in a phase (today's for None)."""
    unit, phase, admin_units = await _in_scope(store, actor, unit_id, phase_id, today)
    return await _unit_view(store, unit, phase, admin_units, today)


async def children_progress(
    store: ProgressStore, actor: Member, unit_id: int, phase_id: int | None, today: dt.date
) -> ChildrenProgress:
    """The units below a unit of the admin's own or below, for a chart."""
    unit, phase, _admin = await _in_scope(store, actor, unit_id, phase_id, today)
    children = ranked(await store.progress.children_figures(unit.id, phase.id))
    return ChildrenProgress(unit, phase, phase_pace(phase, today), tuple(children))


async def rankings(store: ProgressStore, actor: Member, today: dt.date) -> Rankings:
    """/top: the actor's unit (an admin's first, else their own) among its siblings, by
    percent of target and by count, and in each emulation group on its path."""
    phase = await current_phase(store, today)
    if phase is None:
        raise NotFound(NO_PHASE)
    admin_units = await _admin_units(store, actor)
    unit_id = admin_units[0] if admin_units else actor.unit_id
    unit = await store.units.get(unit_id) if unit_id else None
    if unit is None:
        raise NotFound(JOIN_FIRST)
    siblings = await store.progress.children_figures(unit.parent_id, phase.id)
    path = [u.id for u in await store.units.path(unit)]
    groups = []
    for group in await store.progress.groups_of(path, phase.id):
        mine = next((f.unit for f in group.figures if f.unit.id in path), unit)
        groups.append(GroupRanking(group.name, tuple(ranked(group.figures)), mine))
    return Rankings(
        phase=phase,
        days_left=phase.days_left(today),
        unit=unit,
        by_percent=tuple(ranked(siblings)),
        by_count=tuple(sorted(siblings, key=lambda f: (-f.approved, f.unit.name))),
        groups=tuple(groups),
    )


async def target_sheet(
    store: ProgressStore,
    actor: Member,
    today: dt.date,
    unit_id: int | None = None,
    phase_id: int | None = None,
) -> TargetSheet:
    """/targets: the units below one of the admin's units (their first for None) in a
    phase (today's for None); NotAllowed for anyone else, or before any phase."""
    admin_units = await _admin_units(store, actor)
    wanted = admin_units[0] if unit_id is None and admin_units else unit_id
    unit = await store.units.get(wanted) if wanted is not None else None
    phase = await current_phase(store, today, phase_id)
    if unit is None or phase is None or unit.id not in admin_units:
        raise NotAllowed(ADMINS_ONLY)
    children = await store.progress.children_figures(unit.id, phase.id)
    return TargetSheet(unit, phase, tuple(sorted(children, key=lambda f: f.unit.code)))


async def set_target(
    store: ProgressStore,
    actor: Member,
    unit_id: int,
    phase_id: int,
    target: int,
    now: dt.datetime,
) -> TargetSet:
    """Set the target of a unit directly below one of the admin's units."""
    admin_units = await _admin_units(store, actor)
    phase = next((p for p in await store.progress.phases() if p.id == phase_id), None)
    if not admin_units or phase is None:
        raise NotAllowed(ADMINS_ONLY)
    unit = await store.units.get(unit_id)
    if unit is None or unit.parent_id not in admin_units:
        named = Verbatim(unit.code if unit is not None else str(unit_id))
        raise NotAllowed(_("“{line}”: no unit directly below yours has that code.", line=named))
    if not 0 < target <= MAX_TARGET:
        raise InputError(_("“{line}”: the target must be a whole number from 1 to {maximum}.",
                           line=Verbatim(str(target)), maximum=MAX_TARGET))  # fmt: skip
    await store.progress.set_targets([(unit.id, phase.id, target)], now)
    return TargetSet(unit, phase, target)
