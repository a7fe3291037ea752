"""Nudges that replace the phone calls: stale drafts, milestones, lagging units.

Each nudge has a key and is recorded before it is handed out, so a restart or a
second run never sends it twice; a member gets at most one a day, none at night,
and none at all after turning them off in /settings.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from domain.dialog import ResumeDraft
from domain.model import Figures, Initiative, Member, Phase, RoleKind
from domain.ports import UnitOfWork
from domain.progress import phase_on, phase_pace, ranked
from domain.text import Percent, Text, Verbatim, _
from domain.ui import Button, Delivery, Reply

DRAFT_FIRST = dt.timedelta(hours=24)
DRAFT_SECOND = dt.timedelta(days=3)
MILESTONE_WINDOW = dt.timedelta(days=7)
UNIT_MILESTONES = (50, 100)
RECIPIENTS_LIMIT = 1_000_000
LAGGING_CHILDREN = 3


@dataclass(frozen=True)
class NudgePolicy:
    """Which nudges are on, and the quiet hours in the union's clock."""

    drafts: bool = True
    milestones: bool = True
    lagging: bool = True
    quiet_from: int = 21
    quiet_until: int = 7
    lagging_weekday: int = 0  # Monday

    def quiet(self, local: dt.datetime) -> bool:
        """Whether it is night: no nudge then."""
        return local.hour >= self.quiet_from or local.hour < self.quiet_until


class NudgeDesk:
    """Works out the nudges due now and records them."""

    def __init__(self, policy: NudgePolicy) -> None:
        self._policy = policy

    async def due(self, uow: UnitOfWork, now: dt.datetime, local: dt.datetime) -> list[Delivery]:
        """Every nudge due at this moment, each recorded as sent."""
        policy = self._policy
        if policy.quiet(local):
            return []
        run = _Run(uow, now, local.date())
        if policy.drafts:
            await self._drafts(run)
        phase = await phase_on(uow, local.date())
        if phase is not None and policy.milestones:
            await self._milestones(run, phase)
        if phase is not None and policy.lagging and local.weekday() == policy.lagging_weekday:
            await self._lagging(run, phase)
        return run.deliveries

    async def _drafts(self, run: _Run) -> None:
        for draft, writer in await run.uow.nudges.stale_drafts(run.now - DRAFT_FIRST):
            first_key, second_key = f"draft:{draft.id}:1", f"draft:{draft.id}:2"
            first_at = await run.uow.nudges.sent_at(writer.id, first_key)
            if first_at is None:
                await run.send(writer, "draft", first_key, self._draft_reply(draft, second=False))
            elif run.now - first_at >= DRAFT_SECOND and draft.updated_at <= first_at:
                await run.send(writer, "draft", second_key, self._draft_reply(draft, second=True))

    def _draft_reply(self, draft: Initiative, second: bool) -> Reply:
        title = Verbatim(draft.title or "…")
        text = (_("Your draft {number} “{title}” is still waiting. A few minutes and it can "
                  "be sent for review!", number=draft.number, title=title)
                if second else
                _("You started initiative {number} “{title}” but have not sent it yet. "
                  "Every answer is saved: continue where you stopped?",
                  number=draft.number, title=title))  # fmt: skip
        return Reply((text,), ((Button(_("▶️ Continue"), ResumeDraft(draft.id).encode()),),))

    async def _milestones(self, run: _Run, phase: Phase) -> None:
        figures = await run.uow.progress.with_targets(phase.id)
        for unit_figures in figures:
            for percent in UNIT_MILESTONES:
                target = unit_figures.target or 0
                if target and unit_figures.approved * 100 >= percent * target:
                    key = f"unit:{unit_figures.unit.id}:{phase.id}:{percent}"
                    await run.uow.nudges.reach(
                        key, unit_figures.unit.id, phase.id, percent, run.now
                    )
        roots = await run.uow.progress.children_figures(None, phase.id)
        approved = sum(f.approved for f in roots)
        if phase.target:
            for percent in range(10, min(100, approved * 100 // phase.target) + 1, 10):
                await run.uow.nudges.reach(f"prog:{phase.id}:{percent}", None, phase.id,
                                           percent, run.now)  # fmt: skip
        by_unit = {f.unit.id: f for f in figures}
        recent = await run.uow.nudges.milestones_since(run.now - MILESTONE_WINDOW)
        # A unit that went past 100% at once is told that, not 50% as well; a unit's own
        # news comes before the programme's.
        full = {unit_id for _key, unit_id, _phase, percent in recent if percent == 100}
        recent = [m for m in recent if not (m[3] == 50 and m[1] in full)]
        recent.sort(key=lambda m: (m[1] is None, m[0]))
        for key, unit_id, _phase_id, percent in recent:
            if unit_id is None:
                text = _(
                    "🎉 The programme has passed {percent} of the target of {phase}: "
                    "{approved} initiatives approved. Thank you all!",
                    percent=Percent(percent),
                    phase=Verbatim(phase.name),
                    approved=approved,
                )
            elif unit_id in by_unit:
                unit = by_unit[unit_id]
                text = _("🎉 {unit} has reached {percent} of its target for {phase}: "
                         "{approved}/{target} initiatives approved. Congratulations!",
                         unit=Verbatim(unit.unit.name), percent=Percent(percent),
                         phase=Verbatim(phase.name), approved=unit.approved,
                         target=unit.target or 0)  # fmt: skip
            else:
                continue
            for member in await run.uow.nudges.members_below(unit_id, RECIPIENTS_LIMIT):
                await run.send(member, "milestone", key, Reply((text,)))

    async def _lagging(self, run: _Run, phase: Phase) -> None:
        pace = Decimal(str(phase_pace(phase, run.day)))
        week = run.day.isocalendar()
        weeks_left = max(1, math.ceil(phase.days_left(run.day) / 7))
        for unit_figures in await run.uow.progress.with_targets(phase.id):
            percent = unit_figures.percent
            if percent is None or percent >= pace:
                continue
            admins = (await run.uow.roles.holders([unit_figures.unit.id], RoleKind.ADMIN))[
                unit_figures.unit.id
            ]
            if not admins:
                continue
            reply = await self._lagging_reply(run, unit_figures, phase, pace, weeks_left)
            key = f"lag:{unit_figures.unit.id}:{phase.id}:{week.year}-{week.week}"
            for admin in admins:
                await run.send(admin, "lagging", key, reply)

    async def _lagging_reply(
        self, run: _Run, figures: Figures, phase: Phase, pace: Decimal, weeks_left: int
    ) -> Reply:
        missing = max(0, (figures.target or 0) - figures.approved)
        lines: list[Text] = [
            _("📉 {unit} is behind the pace for {phase}: {approved}/{target} approved ({percent}); "
              "by today it should be at {pace}.", unit=Verbatim(figures.unit.name),
              phase=Verbatim(phase.name), approved=figures.approved, target=figures.target or 0,
              percent=Percent(figures.percent or 0), pace=Percent(pace)),
            _("To reach the target: about {per_week} approved initiatives a week for the "
              "{weeks} weeks left.", per_week=math.ceil(missing / weeks_left), weeks=weeks_left),
        ]  # fmt: skip
        children = [f for f in ranked(await run.uow.progress.children_figures(
            figures.unit.id, phase.id)) if f.target]  # fmt: skip
        behind = [f for f in reversed(children) if (f.percent or 0) < pace][:LAGGING_CHILDREN]
        if behind:
            names = ", ".join(f"{f.unit.name} ({float(f.percent or 0):.1f}%)".replace(".", ",")
                              for f in behind)  # fmt: skip
            lines.append(_("Lagging most: {units}", units=Verbatim(names)))
        return Reply(tuple(lines))


class _Run:
    """One pass: the daily cap and the record, shared by every kind of nudge."""

    def __init__(self, uow: UnitOfWork, now: dt.datetime, day: dt.date) -> None:
        self.uow = uow
        self.now = now
        self.day = day
        self.deliveries: list[Delivery] = []
        self._nudged: set[int] = set()

    async def send(self, member: Member, kind: str, key: str, reply: Reply) -> None:
        """Hand out a nudge unless the member opted out or had one today."""
        if not member.nudges or member.id in self._nudged:
            return
        if await self.uow.nudges.nudged_on(member.id, self.day):
            self._nudged.add(member.id)
            return
        if await self.uow.nudges.record(member.id, kind, key, self.day, self.now):
            self._nudged.add(member.id)
            self.deliveries.append(Delivery(member, reply))
