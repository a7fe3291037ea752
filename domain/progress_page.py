"""Progress as the web page shows it: a unit of the admin's scope with the units below
(what /stats shows of it), the way back up to the top of their scope, the phases to
switch to, and the emulation groups' rankings (what /top shows)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.errors import NotAllowed, NotFound
from domain.model import Member, Phase, RoleKind, Unit
from domain.progress import current_phase, phase_pace, ranked
from domain.progress_cases import (
    NO_PHASE,
    OWN_UNITS_ONLY,
    GroupRanking,
    ProgressStore,
    UnitProgress,
    unit_progress,
)
from domain.roles import units_held


@dataclass(frozen=True, slots=True)
class ProgressPage:
    """One unit's progress page."""

    view: UnitProgress
    # From the top of the admin's scope down to the unit itself.
    path: tuple[Unit, ...]
    # Every phase, earliest first.
    phases: tuple[Phase, ...]
    # Percent of its target a unit on a straight line to it has reached today.
    pace: float
    # The groups holding the unit, a unit above it or a unit directly below it.
    groups: tuple[GroupRanking, ...]

    @property
    def unit(self) -> Unit:
        """The unit shown."""
        return self.view.own.figures.unit


async def progress_page(
    store: ProgressStore,
    actor: Member,
    unit_id: int | None,
    phase_id: int | None,
    today: dt.date,
) -> ProgressPage:
    """A unit of the admin's own or below (their first for None) in a phase (today's for
    None). NotAllowed outside their scope or for a phase that does not exist; NotFound
    before any phase is set."""
    held = await units_held(store, actor.id, RoleKind.ADMIN)
    if not held:
        raise NotAllowed(OWN_UNITS_ONLY)
    if phase_id is None and await current_phase(store, today) is None:
        raise NotFound(NO_PHASE)
    view = await unit_progress(store, actor, held[0] if unit_id is None else unit_id,
                               phase_id, today)  # fmt: skip
    unit = view.own.figures.unit
    top_down = (await store.units.path(unit))[::-1]
    start = next((i for i, u in enumerate(top_down) if u.id in held), 0)
    path = tuple(top_down[start:])
    return ProgressPage(
        view=view,
        path=path,
        phases=tuple(await store.progress.phases()),
        pace=phase_pace(view.phase, today),
        groups=await _groups(store, view, [u.id for u in top_down]),
    )


async def _groups(
    store: ProgressStore, view: UnitProgress, path: list[int]
) -> tuple[GroupRanking, ...]:
    """The emulation groups of the unit, the units above it and those directly below,
    best first, each with the unit of the page's it holds."""
    below = [f.unit.id for f in view.children]
    found = await store.progress.groups_of([*path, *below], view.phase.id)
    mine = set(path) | set(below)
    rankings = []
    for group in found:
        own = next((f.unit for f in group.figures if f.unit.id in mine), view.own.figures.unit)
        rankings.append(GroupRanking(group.name, tuple(ranked(group.figures)), own))
    return tuple(rankings)
