"""/export: an admin picks one of the two Excel reports of their unit and gets the file.

The turn checks who may export and answers with a document to make; the file itself is
made after the turn's transaction (``prepare_documents``), a batch of rows per short
transaction and written off the event loop, so other members are answered meanwhile.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from domain.codes import ButtonCode, button_code
from domain.errors import NotAllowed, NotFound
from domain.model import Member, RoleKind
from domain.reports import ADMINS_ONLY, Exporter, ExportScope, ReportKind, ReportOrder, export_scope
from domain.roles import units_held
from domain.routes import ButtonRoute, CommandRoute, Routes
from domain.text import Text, Verbatim, _
from domain.turn import Turn
from domain.ui import Button, Document, Outcome, Reply

REPORT_LABELS: dict[ReportKind, Text] = {
    ReportKind.INITIATIVES: _("📋 List of initiatives"),
    ReportKind.PROGRESS: _("📊 Progress by unit"),
}


@button_code("xl")
@dataclass(frozen=True, slots=True)
class ExportReport(ButtonCode):
    """xl:<report>:<unit>:<phase> — one report of a unit in a phase."""

    report: ReportKind
    unit: int
    phase: int


def _caption(kind: ReportKind, scope: ExportScope) -> Text:
    return _("{report}: {unit}, {phase}.", report=REPORT_LABELS[kind],
             unit=Verbatim(scope.unit.name), phase=Verbatim(scope.phase.name))  # fmt: skip


class ExportDesk:
    """The two reports, asked for in chat."""

    def routes(self) -> Routes:
        """/export and its choice of report."""
        return Routes(
            commands={"export": CommandRoute(lambda turn, _a: self.start(turn), open=True)},
            buttons={"xl": ButtonRoute(self.chosen)},
        )

    async def start(self, turn: Turn) -> None:
        """Offer the reports of the admin's first unit in today's phase."""
        held = await units_held(turn.uow, turn.member.id, RoleKind.ADMIN)
        if not held:
            turn.say(ADMINS_ONLY, _("Ask your union's admin for the reports you need."))
            return
        try:
            scope = await export_scope(turn.uow, turn.member, held[0], None, turn.today)
        except (NotAllowed, NotFound) as error:
            turn.say(error.text)
            return
        buttons = tuple(
            (Button(label, ExportReport(kind, scope.unit.id, scope.phase.id).encode()),)
            for kind, label in REPORT_LABELS.items()
        )
        turn.say(_("Which report of {unit} for {phase} do you want as an Excel file?",
                   unit=Verbatim(scope.unit.name), phase=Verbatim(scope.phase.name)),
                 buttons=buttons)  # fmt: skip

    async def chosen(self, turn: Turn, press: ExportReport) -> None:
        """The report chosen: checked again now, made once the turn is over."""
        try:
            scope = await export_scope(turn.uow, turn.member, press.unit, press.phase, turn.today)
        except (NotAllowed, NotFound) as error:
            turn.outcome.notice = error.text
            turn.say(error.text)
            return
        order = ReportOrder(press.report, scope.unit.id, scope.phase.id)
        document = Document(f"{press.report.value}.xlsx", order=order)
        turn.outcome.replies.append(Reply((_caption(press.report, scope),), document=document))


async def prepare_documents(
    outcome: Outcome, exporter: Exporter | None, member: Member, today: dt.date
) -> None:
    """Make the files the replies ask for, after the turn's transaction; a report the
    member may no longer have is replaced by why."""
    for index, reply in enumerate(outcome.replies):
        document = reply.document
        if document is None or not isinstance(document.order, ReportOrder):
            continue
        order = document.order
        if exporter is None:
            outcome.replies[index] = Reply((_("Reports cannot be made here."),))
            continue
        try:
            report = await exporter.make(order.kind, member, order.unit_id, order.phase_id,
                                         today, outcome.language)  # fmt: skip
        except (NotAllowed, NotFound) as error:
            outcome.replies[index] = Reply((error.text,))
            continue
        made = Document(report.file_name, report.data)
        outcome.replies[index] = replace(reply, document=made)
