"""/stats and /top: where a unit stands against its target, and how it ranks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from domain.errors import InputError
from domain.model import DialogState, Figures, Phase, RoleKind, Unit
from domain.ports import UnitOfWork
from domain.progress import MAX_TARGET, phase_on, read_target
from domain.roles import covers, units_held
from domain.routes import ButtonRoute, CommandRoute, Routes, StateRoute
from domain.text import Amount, Day, Percent, Text, Verbatim, _, n_
from domain.turn import Forged, Turn
from domain.ui import Bar, Button, Chart, Reply, encode, number_at

CHILD_LINES = 12
DRILL_BUTTONS = 8
TOP_LINES = 10
TARGET_LINES = 40
CHART_BARS = 30


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


def _figure_line(figures: Figures, rank: int | None = None, of: int | None = None) -> Text:
    name = Verbatim(figures.unit.name)
    if figures.target:
        line = _("{unit}: {approved}/{target} · {percent}",
                 unit=name, approved=figures.approved, target=figures.target,
                 percent=Percent(figures.percent or 0))  # fmt: skip
    else:
        line = _("{unit}: {approved} initiatives (no target)", unit=name,
                 approved=figures.approved)  # fmt: skip
    if rank is not None and of is not None and of > 1:
        return _("{line} · rank {rank}/{of}", line=line, rank=rank, of=of)
    return line


async def current_phase(
    uow: UnitOfWork, today: dt.date, phase_id: int | None = None
) -> Phase | None:
    """The phase asked for; else today's; else the latest that started; else the first."""
    phases = await uow.progress.phases()
    if phase_id is not None:
        return next((p for p in phases if p.id == phase_id), None)
    current = await phase_on(uow, today)
    if current is not None:
        return current
    started = [p for p in phases if p.starts_on <= today]
    return started[-1] if started else (phases[0] if phases else None)


class StatsDesk:
    """Figures for members and admins, from the running counters."""

    def _header(self, phase: Phase, today: dt.date) -> Text:
        return _("📊 {phase} ({start} – {end}), {days} days left",
                 phase=Verbatim(phase.name), start=Day(phase.starts_on), end=Day(phase.ends_on),
                 days=phase.days_left(today))  # fmt: skip

    async def _rank(self, uow: UnitOfWork, unit: Unit, phase: Phase) -> tuple[int, int]:
        siblings = ranked(await uow.progress.children_figures(unit.parent_id, phase.id))
        for index, figures in enumerate(siblings, start=1):
            if figures.unit.id == unit.id:
                return index, len(siblings)
        return 1, 1

    async def _admin_units(self, turn: Turn) -> list[int]:
        return await units_held(turn.uow, turn.member.id, RoleKind.ADMIN)

    def routes(self) -> Routes:
        """/stats and /top, and the drill-down buttons."""
        return Routes(
            commands={
                "stats": CommandRoute(lambda turn, _a: self.stats(turn), open=True),
                "top": CommandRoute(lambda turn, _a: self.top(turn), open=True),
            },
            buttons={"s": ButtonRoute(self.button)},
        )

    async def stats(self, turn: Turn) -> None:
        """/stats: an admin sees their unit and its children; a member their unit's path."""
        phase = await current_phase(turn.uow, turn.today)
        if phase is None:
            turn.say(_("No phase of the programme has been set yet."))
            return
        admin_units = await self._admin_units(turn)
        if admin_units:
            unit = await turn.uow.units.get(admin_units[0])
            if unit is not None:
                await self._unit_view(turn, unit, phase)
                return
        if turn.member.unit_id is None:
            turn.say(_("Join your grassroots union first (/start)."))
            return
        unit = await turn.uow.units.get(turn.member.unit_id)
        assert unit is not None
        path = await turn.uow.units.path(unit)
        lines = [self._header(phase, turn.today)]
        for figures in await turn.uow.progress.figures(path, phase.id):
            rank, of = await self._rank(turn.uow, figures.unit, phase)
            lines.append(_figure_line(figures, rank, of))
        own = (await turn.uow.progress.figures([unit], phase.id))[0]
        lines.append(self._details(own))
        turn.say(*lines)

    def _details(self, figures: Figures) -> Text:
        return _("Participants: {people} · awaiting review: {pending} · returned: {returned} · "
                 "estimated benefit: {benefit}", people=figures.people, pending=figures.pending,
                 returned=figures.returned, benefit=Amount(figures.benefit_vnd))  # fmt: skip

    async def _waiting_elsewhere(self, uow: UnitOfWork, unit: Unit, own: Figures) -> list[Text]:
        """/pending lists everything waiting; the phase counts only what was first
        submitted in it. When they differ, say so rather than let them disagree."""
        _items, waiting, _per_unit = await uow.initiatives.pending_in([unit.id], 0, 0)
        if waiting == own.pending:
            return []
        return [_("⏳ Awaiting review: {pending} in this phase ({total} waiting in all, "
                  "including those counted outside it; see /pending).",
                  pending=own.pending, total=waiting)]  # fmt: skip

    async def _unit_view(self, turn: Turn, unit: Unit, phase: Phase) -> None:
        own = (await turn.uow.progress.figures([unit], phase.id))[0]
        children = ranked(await turn.uow.progress.children_figures(unit.id, phase.id))
        rank, of = await self._rank(turn.uow, unit, phase)
        lines = [self._header(phase, turn.today), _figure_line(own, rank, of), self._details(own)]
        lines += await self._waiting_elsewhere(turn.uow, unit, own)
        if children:
            lines.append(_("Units below, best first:"))
            for index, figures in enumerate(children[:CHILD_LINES], start=1):
                lines.append(_("{rank}. {line}", rank=index, line=_figure_line(figures)))
            if len(children) > CHILD_LINES:
                lines.append(_("… and {count} more units.", count=len(children) - CHILD_LINES))
        rows: list[tuple[Button, ...]] = []
        if children:
            rows.append((Button(_("📈 Chart"), encode("s", "c", unit.id, phase.id)),))
        drill = [Button(Text("{name}", {"name": Verbatim(f.unit.name[:40])}),
                        encode("s", "u", f.unit.id, phase.id))
                 for f in children[:DRILL_BUTTONS]]  # fmt: skip
        rows += [tuple(drill[i : i + 2]) for i in range(0, len(drill), 2)]
        admin_units = set(await self._admin_units(turn))
        if unit.parent_id is not None and unit.id not in admin_units:
            rows.append((Button(_("⬆️ One level up"), encode("s", "u", unit.parent_id, phase.id)),))
        others = [p for p in await turn.uow.progress.phases() if p.id != phase.id]
        if others:
            switch = [Button(Text("{name}", {"name": Verbatim(p.name[:30])}),
                             encode("s", "u", unit.id, p.id)) for p in others[:3]]  # fmt: skip
            rows.append(tuple(switch))
        turn.say(*lines, buttons=tuple(rows))

    async def button(self, turn: Turn, parts: Sequence[str]) -> None:
        """Drill down, up, or to another phase: only within the admin's own units."""
        if len(parts) != 4 or parts[1] not in ("u", "c"):
            raise Forged
        unit_id, phase_id = number_at(parts, 2), number_at(parts, 3)
        unit = await turn.uow.units.get(unit_id)
        phase = await current_phase(turn.uow, turn.today, phase_id)
        if (
            unit is None
            or phase is None
            or not await covers(turn.uow, await self._admin_units(turn), unit)
        ):
            turn.outcome.notice = _("You may only look at your own units and those below.")
            return
        if parts[1] == "c":
            await self._chart(turn, unit, phase)
            return
        await self._unit_view(turn, unit, phase)

    async def _chart(self, turn: Turn, unit: Unit, phase: Phase) -> None:
        children = ranked(await turn.uow.progress.children_figures(unit.id, phase.id))
        bars = tuple(Bar(f.unit.name, float(f.percent or 0)) for f in children[:CHART_BARS]
                     if f.target)  # fmt: skip
        if not bars:
            turn.outcome.notice = _("No unit below has a target yet.")
            return
        chart = Chart(
            title=_("{unit} · {phase}", unit=Verbatim(unit.name), phase=Verbatim(phase.name)),
            bars=bars,
            pace_percent=phase_pace(phase, turn.today),
            target_label=_("Target (100%)"),
            pace_label=_("Expected by today"),
        )
        caption = _("📈 Units below {unit}: percent of target; the dashed line is where they "
                    "should be today.", unit=Verbatim(unit.name))  # fmt: skip
        turn.outcome.replies.append(Reply((caption,), chart=chart))

    async def top(self, turn: Turn) -> None:
        """/top: the ranking among the unit's siblings, by percent of target and by count."""
        phase = await current_phase(turn.uow, turn.today)
        if phase is None:
            turn.say(_("No phase of the programme has been set yet."))
            return
        admin_units = await self._admin_units(turn)
        unit_id = admin_units[0] if admin_units else turn.member.unit_id
        unit = await turn.uow.units.get(unit_id) if unit_id else None
        if unit is None:
            turn.say(_("Join your grassroots union first (/start)."))
            return
        siblings = await turn.uow.progress.children_figures(unit.parent_id, phase.id)
        by_percent = ranked(siblings)
        by_count = sorted(siblings, key=lambda f: (-f.approved, f.unit.name))
        lines: list[Text] = [self._header(phase, turn.today),
                             _("🏆 By percent of target:")]  # fmt: skip
        lines += self._top_lines(by_percent, unit)
        lines.append(_("🏅 By number of approved initiatives:"))
        lines += self._top_lines(by_count, unit)
        path = await turn.uow.units.path(unit)
        for name, members in await turn.uow.progress.groups_of([u.id for u in path], phase.id):
            lines.append(_("🤝 In the emulation group {group}:", group=Verbatim(name)))
            mine = next((f.unit for f in members if f.unit.id in {u.id for u in path}), unit)
            lines += self._top_lines(ranked(members), mine)
        turn.say(*lines)

    def _top_lines(self, order: list[Figures], unit: Unit) -> list[Text]:
        lines = []
        for index, figures in enumerate(order, start=1):
            if index <= TOP_LINES or figures.unit.id == unit.id:
                line = _("{rank}. {line}", rank=index, line=_figure_line(figures))
                lines.append(_("{line} ◀️", line=line) if figures.unit.id == unit.id else line)
        return lines


class TargetDesk:
    """/targets: an admin sets the targets of the units directly below their own."""

    async def _scope(self, turn: Turn) -> tuple[Unit, Phase] | None:
        roles = await units_held(turn.uow, turn.member.id, RoleKind.ADMIN)
        unit = await turn.uow.units.get(roles[0]) if roles else None
        phase = await current_phase(turn.uow, turn.today)
        if unit is None or phase is None:
            return None
        return unit, phase

    def routes(self) -> Routes:
        """/targets and the lines typed after it."""
        return Routes(
            commands={"targets": CommandRoute(lambda turn, _a: self.start(turn), open=True)},
            states={DialogState.TARGETS: StateRoute(self.text, self.prompt)},
        )

    async def prompt(self, turn: Turn, *before: Text) -> None:
        """Say why the lines were refused; the member types them again."""
        turn.say(*before)

    async def start(self, turn: Turn) -> None:
        """Show the children's targets and how to change them."""
        scope = await self._scope(turn)
        if scope is None:
            turn.say(_("This command is for union admins, once a phase is set."))
            return
        unit, phase = scope
        children = await turn.uow.progress.children_figures(unit.id, phase.id)
        if not children:
            turn.say(_("{unit} has no units below it.", unit=Verbatim(unit.name)))
            return
        turn.conversation.state = DialogState.TARGETS
        turn.conversation.data = {"u": unit.id, "p": phase.id}
        lines = [_("Targets of the units below {unit} for {phase}:", unit=Verbatim(unit.name),
                   phase=Verbatim(phase.name))]  # fmt: skip
        for figures in sorted(children, key=lambda f: f.unit.code)[:TARGET_LINES]:
            lines.append(_("{code} · {name}: {target}", code=Verbatim(figures.unit.code),
                           name=Verbatim(figures.unit.name),
                           target=figures.target if figures.target else _("—")))  # fmt: skip
        lines.append(_("To change them, type one unit a line: its code and the target, for "
                       "example “{code} 60”. /cancel when done.",
                       code=Verbatim(children[0].unit.code)))  # fmt: skip
        turn.say(*lines)

    async def text(self, turn: Turn, text: str) -> None:
        """Lines of ``CODE TARGET``; all of them or none."""
        data = turn.conversation.data
        unit = await turn.uow.units.get(int(data.get("u", 0)))
        phase = await current_phase(turn.uow, turn.today, int(data.get("p", 0)))
        scope = await self._scope(turn)
        if unit is None or phase is None or scope is None or not await self._may(turn, unit):
            turn.pause()
            turn.say(_("This command is for union admins, once a phase is set."))
            return
        below = await turn.uow.progress.children_figures(unit.id, phase.id)
        children = {f.unit.code.lower(): f.unit for f in below}
        wanted: list[tuple[int, int, int]] = []
        for line in (part.strip() for part in text.splitlines() if part.strip()):
            code, _sep, raw = line.rpartition(" ")
            child = children.get(code.strip().lower())
            target = read_target(raw)
            if child is None:
                raise InputError(_("“{line}”: no unit directly below yours has that code.",
                                   line=Verbatim(line[:60])))  # fmt: skip
            if target is None:
                raise InputError(
                    _("“{line}”: the target must be a whole number from 1 to {maximum}.",
                      line=Verbatim(line[:60]), maximum=MAX_TARGET)
                )  # fmt: skip
            wanted.append((child.id, phase.id, target))
        await turn.uow.progress.set_targets(wanted, turn.now)
        turn.say(
            n_("{count} target saved. Type more, or /cancel when done.",
               "{count} targets saved. Type more, or /cancel when done.", len(wanted))
        )  # fmt: skip

    async def _may(self, turn: Turn, unit: Unit) -> bool:
        return unit.id in await units_held(turn.uow, turn.member.id, RoleKind.ADMIN)
