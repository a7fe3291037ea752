"""/stats, /top and /targets: the progress use cases, asked for and shown in a chat."""

from __future__ import annotations

from dataclasses import dataclass

from domain.codes import ButtonCode, button_code
from domain.errors import InputError, NotAllowed, NotFound
from domain.model import DialogState, Figures, Phase, Unit
from domain.progress import MAX_TARGET, read_target
from domain.progress_cases import (
    ChildrenProgress,
    UnitProgress,
    children_progress,
    progress_overview,
    rankings,
    set_target,
    target_sheet,
    unit_progress,
)
from domain.routes import ButtonRoute, CommandRoute, Routes, StateRoute
from domain.text import Amount, Day, Percent, Text, Verbatim, _, n_
from domain.turn import Turn
from domain.ui import Bar, Button, Chart, Reply

CHILD_LINES = 12
DRILL_BUTTONS = 8
TOP_LINES = 10
TARGET_LINES = 40
CHART_BARS = 30


@button_code("s", "u")
@dataclass(frozen=True, slots=True)
class ShowUnit(ButtonCode):
    """s:u:<unit>:<phase> — a unit's figures in a phase, with the units below it."""

    unit: int
    phase: int


@button_code("s", "c")
@dataclass(frozen=True, slots=True)
class ShowChart(ButtonCode):
    """s:c:<unit>:<phase> — a chart of the units below a unit."""

    unit: int
    phase: int


def _header(phase: Phase, days_left: int) -> Text:
    return _("📊 {phase} ({start} – {end}), {days} days left",
             phase=Verbatim(phase.name), start=Day(phase.starts_on), end=Day(phase.ends_on),
             days=days_left)  # fmt: skip


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


def _details(figures: Figures) -> Text:
    return _("Participants: {people} · awaiting review: {pending} · returned: {returned} · "
             "estimated benefit: {benefit}", people=figures.people, pending=figures.pending,
             returned=figures.returned, benefit=Amount(figures.benefit_vnd))  # fmt: skip


def progress_chart(view: ChildrenProgress) -> Chart | None:
    """The chart of the units below a unit, as chat and the web page show it; None when
    none of them has a target."""
    bars = tuple(Bar(f.unit.name, float(f.percent or 0)) for f in view.children[:CHART_BARS]
                 if f.target)  # fmt: skip
    if not bars:
        return None
    return Chart(
        title=_("{unit} · {phase}", unit=Verbatim(view.unit.name),
                phase=Verbatim(view.phase.name)),
        bars=bars,
        pace_percent=view.pace,
        target_label=_("Target (100%)"),
        pace_label=_("Expected by today"),
    )  # fmt: skip


class StatsDesk:
    """Figures for members and admins, from the running counters."""

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
        try:
            view = await progress_overview(turn.uow, turn.member, turn.today)
        except NotFound as error:
            turn.say(error.text)
            return
        if isinstance(view, UnitProgress):
            self._unit_view(turn, view)
            return
        lines = [_header(view.phase, view.days_left)]
        lines += [_figure_line(s.figures, s.rank, s.of) for s in view.path]
        lines.append(_details(view.own))
        turn.say(*lines)

    def _unit_view(self, turn: Turn, view: UnitProgress) -> None:
        own = view.own.figures
        lines = [_header(view.phase, view.days_left),
                 _figure_line(own, view.own.rank, view.own.of), _details(own)]  # fmt: skip
        if view.waiting_in_all != own.pending:
            # /pending lists everything waiting; the phase counts only what was first
            # submitted in it. When they differ, say so rather than let them disagree.
            lines.append(_("⏳ Awaiting review: {pending} in this phase ({total} waiting in "
                           "all, including those counted outside it; see /pending).",
                           pending=own.pending, total=view.waiting_in_all))  # fmt: skip
        children = view.children
        if children:
            lines.append(_("Units below, best first:"))
            for index, figures in enumerate(children[:CHILD_LINES], start=1):
                lines.append(_("{rank}. {line}", rank=index, line=_figure_line(figures)))
            if len(children) > CHILD_LINES:
                lines.append(_("… and {count} more units.", count=len(children) - CHILD_LINES))
        turn.say(*lines, buttons=self._unit_buttons(view))

    def _unit_buttons(self, view: UnitProgress) -> tuple[tuple[Button, ...], ...]:
        unit, phase = view.own.figures.unit, view.phase
        rows: list[tuple[Button, ...]] = []
        if view.children:
            rows.append((Button(_("📈 Chart"), ShowChart(unit.id, phase.id).encode()),))
        drill = [Button(Text("{name}", {"name": Verbatim(f.unit.name[:40])}),
                        ShowUnit(f.unit.id, phase.id).encode())
                 for f in view.children[:DRILL_BUTTONS]]  # fmt: skip
        rows += [tuple(drill[i : i + 2]) for i in range(0, len(drill), 2)]
        if view.up is not None:
            rows.append((Button(_("⬆️ One level up"), ShowUnit(view.up, phase.id).encode()),))
        if view.other_phases:
            switch = [Button(Text("{name}", {"name": Verbatim(p.name[:30])}),
                             ShowUnit(unit.id, p.id).encode())
                      for p in view.other_phases[:3]]  # fmt: skip
            rows.append(tuple(switch))
        return tuple(rows)

    async def button(self, turn: Turn, press: ShowUnit | ShowChart) -> None:
        """Drill down, up, or to another phase: only within the admin's own units."""
        try:
            if isinstance(press, ShowChart):
                self._chart(turn, await children_progress(
                    turn.uow, turn.member, press.unit, press.phase, turn.today))  # fmt: skip
                return
            view = await unit_progress(turn.uow, turn.member, press.unit, press.phase, turn.today)
        except NotAllowed as error:
            turn.outcome.notice = error.text
            return
        self._unit_view(turn, view)

    def _chart(self, turn: Turn, view: ChildrenProgress) -> None:
        chart = progress_chart(view)
        if chart is None:
            turn.outcome.notice = _("No unit below has a target yet.")
            return
        caption = _("📈 Units below {unit}: percent of target; the dashed line is where they "
                    "should be today.", unit=Verbatim(view.unit.name))  # fmt: skip
        turn.outcome.replies.append(Reply((caption,), chart=chart))

    async def top(self, turn: Turn) -> None:
        """/top: the ranking among the unit's siblings, by percent of target and by count."""
        try:
            ranking = await rankings(turn.uow, turn.member, turn.today)
        except NotFound as error:
            turn.say(error.text)
            return
        unit = ranking.unit
        lines: list[Text] = [_header(ranking.phase, ranking.days_left),
                             _("🏆 By percent of target:")]  # fmt: skip
        lines += self._top_lines(ranking.by_percent, unit)
        lines.append(_("🏅 By number of approved initiatives:"))
        lines += self._top_lines(ranking.by_count, unit)
        for group in ranking.groups:
            lines.append(_("🤝 In the emulation group {group}:", group=Verbatim(group.name)))
            lines += self._top_lines(group.ranked, group.mine)
        turn.say(*lines)

    def _top_lines(self, order: tuple[Figures, ...], unit: Unit) -> list[Text]:
        lines = []
        for index, figures in enumerate(order, start=1):
            if index <= TOP_LINES or figures.unit.id == unit.id:
                line = _("{rank}. {line}", rank=index, line=_figure_line(figures))
                lines.append(_("{line} ◀️", line=line) if figures.unit.id == unit.id else line)
        return lines


class TargetDesk:
    """/targets: an admin sets the targets of the units directly below their own."""

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
        try:
            sheet = await target_sheet(turn.uow, turn.member, turn.today)
        except NotAllowed as error:
            turn.say(error.text)
            return
        unit, phase = sheet.unit, sheet.phase
        if not sheet.children:
            turn.say(_("{unit} has no units below it.", unit=Verbatim(unit.name)))
            return
        turn.conversation.state = DialogState.TARGETS
        turn.conversation.data = {"u": unit.id, "p": phase.id}
        lines = [_("Targets of the units below {unit} for {phase}:", unit=Verbatim(unit.name),
                   phase=Verbatim(phase.name))]  # fmt: skip
        for figures in sheet.children[:TARGET_LINES]:
            lines.append(_("{code} · {name}: {target}", code=Verbatim(figures.unit.code),
                           name=Verbatim(figures.unit.name),
                           target=figures.target if figures.target else _("—")))  # fmt: skip
        lines.append(_("To change them, type one unit a line: its code and the target, for "
                       "example “{code} 60”. /cancel when done.",
                       code=Verbatim(sheet.children[0].unit.code)))  # fmt: skip
        turn.say(*lines)

    async def text(self, turn: Turn, text: str) -> None:
        """Lines of ``CODE TARGET``; all of them or none."""
        data = turn.conversation.data
        try:
            sheet = await target_sheet(turn.uow, turn.member, turn.today,
                                       int(data.get("u", 0)), int(data.get("p", 0)))  # fmt: skip
        except NotAllowed as error:
            turn.pause()
            turn.say(error.text)
            return
        children = {f.unit.code.lower(): f.unit for f in sheet.children}
        wanted: list[tuple[Unit, int]] = []
        # Every line is read before any is saved: one wrong line saves none.
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
            wanted.append((child, target))
        for child, target in wanted:
            await set_target(turn.uow, turn.member, child.id, sheet.phase.id, target, turn.now)
        turn.say(
            n_("{count} target saved. Type more, or /cancel when done.",
               "{count} targets saved. Type more, or /cancel when done.", len(wanted))
        )  # fmt: skip
