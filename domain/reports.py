"""The two Excel reports as plain calls: the list of initiatives (Danh sách sáng kiến) and
progress by unit (Tiến độ theo đơn vị) of a unit's subtree in a phase.

Any front end calls ``Exporter.make``: the chat's /export, the command line, the web
page. It checks who may export, reads the rows a batch at a time, each batch in its own
short transaction (nothing is held while the file is written, and SQLite's one
connection is free between batches), and hands them to a ``SheetWriter`` that writes the
file off the event loop. The core says what the columns are; the writer, how they look.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from domain.dialog import FIELD_LABELS, KIND_LABELS, STATUS_LABELS
from domain.erased import name_text, title_text
from domain.errors import NotAllowed, NotFound
from domain.model import Coauthor, Figures, Member, Phase, RoleKind, Unit, format_number
from domain.ports import InitiativeLine, ProgressRepository, ReportSource, UnitOfWorkFactory
from domain.progress import current_phase, ranked
from domain.progress_cases import NO_PHASE, OWN_UNITS_ONLY
from domain.review import ACTION_LABELS
from domain.roles import RoleScope, covers, units_held
from domain.text import Text, Verbatim, _

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Rows read per transaction: a few hundred kilobytes, whatever the size of the export.
BATCH = 1000


class CellKind(StrEnum):
    """How a column's values are shown."""

    TEXT = "text"
    COUNT = "count"
    # Đồng, as a number with thousands separators.
    MONEY = "money"
    # A fraction shown as a percentage (0.25 is 25%).
    PERCENT = "percent"
    # An instant, shown as a date and time in the union's clock.
    MOMENT = "moment"


# A cell: a value as it is, or a text to translate (a status, a header).
Cell = str | int | float | Decimal | dt.datetime | Text | None
Batches = AsyncIterator[Sequence[Sequence[Cell]]]


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its header, how its values show, and its width in characters."""

    title: Text
    kind: CellKind = CellKind.TEXT
    width: int = 16


@dataclass(frozen=True, slots=True)
class Sheet:
    """A sheet's name and columns."""

    title: Text
    columns: tuple[Column, ...]


class SheetWriter(Protocol):
    """Writes one sheet from its rows, in a language; returns the file's bytes."""

    async def __call__(self, sheet: Sheet, rows: Batches, language: str) -> bytes:
        """The workbook."""


class ReportKind(StrEnum):
    """The two reports."""

    INITIATIVES = "initiatives"
    PROGRESS = "progress"


@dataclass(frozen=True, slots=True)
class ReportOrder:
    """A report asked for: which, of which unit, in which phase."""

    kind: ReportKind
    unit_id: int
    phase_id: int


@dataclass(frozen=True, slots=True)
class Report:
    """A written report: its file name, its bytes and how many rows of data it holds."""

    file_name: str
    data: bytes
    rows: int


@dataclass(frozen=True, slots=True)
class ExportScope:
    """Whose figures go in a report, for which phase, and whether the exporter may read
    what authors marked confidential."""

    unit: Unit
    phase: Phase
    confidential: bool


class ExportStore(RoleScope, Protocol):
    """What exporting reads."""

    progress: ProgressRepository
    reports: ReportSource


ADMINS_ONLY = _("Reports are for union admins.")

INITIATIVES_SHEET = Sheet(_("Initiatives"), (
    Column(_("Number"), width=12),
    Column(_("Title"), width=40),
    Column(_("Kind"), width=24),
    Column(_("Field"), width=22),
    Column(_("Author"), width=24),
    Column(_("Co-authors (share)"), width=32),
    Column(_("Unit"), width=30),
    Column(_("Unit path"), width=50),
    Column(_("Submitted"), CellKind.MOMENT, 17),
    Column(_("Decided"), CellKind.MOMENT, 17),
    Column(_("Status"), width=20),
    Column(_("Decision"), width=24),
    Column(_("Reason"), width=40),
    Column(_("Effect"), width=40),
    Column(_("Estimated benefit (VND)"), CellKind.MONEY, 20),
    Column(_("Confidential"), width=12),
    Column(_("Confidential details"), width=40),
))  # fmt: skip

PROGRESS_SHEET = Sheet(_("Progress by unit"), (
    Column(_("Code"), width=16),
    Column(_("Unit"), width=36),
    Column(_("Target"), CellKind.COUNT, 10),
    Column(_("Approved"), CellKind.COUNT, 10),
    Column(_("Percent of target"), CellKind.PERCENT, 12),
    Column(_("Rank"), CellKind.COUNT, 8),
    Column(_("Awaiting review"), CellKind.COUNT, 12),
    Column(_("Returned"), CellKind.COUNT, 10),
    Column(_("Submissions"), CellKind.COUNT, 12),
    Column(_("Participants"), CellKind.COUNT, 12),
    Column(_("Estimated benefit (VND)"), CellKind.MONEY, 20),
))  # fmt: skip

YES, NO = _("Yes"), _("No")


async def export_scope(
    store: ExportStore, actor: Member | None, unit_id: int, phase_id: int | None, today: dt.date
) -> ExportScope:
    """The unit and phase of a report, for an admin of the unit or of a unit above it, or
    for the operator (``actor`` None). NotAllowed for anyone else, or for a unit that
    does not exist (not saying which); NotFound when no phase is set."""
    phase = await current_phase(store, today, phase_id)
    if phase is None:
        raise NotFound(NO_PHASE)
    unit = await store.units.get(unit_id)
    if actor is None:
        if unit is None:
            raise NotAllowed(OWN_UNITS_ONLY)
        return ExportScope(unit, phase, confidential=True)
    held = await units_held(store, actor.id, RoleKind.ADMIN)
    if not held:
        raise NotAllowed(ADMINS_ONLY)
    if unit is None or not await covers(store, held, unit):
        raise NotAllowed(OWN_UNITS_ONLY)
    # Confidential parts are for an initiative's reviewers (review_cases.may_read): the
    # admins of its unit and of the units above, which every exporter of the unit is.
    return ExportScope(unit, phase, confidential=True)


def _shares(coauthors: Sequence[Coauthor]) -> str:
    """Co-authors as one cell: "Trần Văn B (30%); Lê Thị C"."""
    return "; ".join(f"{c.name} ({c.share.normalize():f}%)" if c.share is not None else c.name
                     for c in coauthors)  # fmt: skip


def initiative_row(line: InitiativeLine, path: Sequence[str], confidential: bool) -> list[Cell]:
    """One initiative as the list shows it; its confidential details only when the
    exporter may read them."""
    return [
        format_number(line.id),
        title_text(line.title),
        KIND_LABELS[line.kind] if line.kind else None,
        FIELD_LABELS[line.field] if line.field else None,
        name_text(line.author),
        _shares(line.coauthors),
        line.unit.name,
        " › ".join(path),
        line.submitted_at,
        line.decided_at,
        STATUS_LABELS[line.status],
        ACTION_LABELS.get(line.decision) if line.decision else None,
        line.reason,
        line.effect,
        line.benefit_vnd,
        YES if line.confidential else NO,
        line.confidential_note if line.confidential and confidential else None,
    ]


def progress_row(figures: Figures, rank: int | None, name: Cell | None = None) -> list[Cell]:
    """A unit's figures as a row: what /stats shows of it."""
    percent = figures.percent
    return [
        figures.unit.code,
        name if name is not None else figures.unit.name,
        figures.target,
        figures.approved,
        float(percent / 100) if percent is not None else None,
        rank,
        figures.pending,
        figures.returned,
        figures.approved + figures.pending + figures.returned,
        figures.people,
        figures.benefit_vnd,
    ]


def file_name(kind: ReportKind, scope: ExportScope) -> str:
    """The report's file name: which report, of which unit, in which phase."""
    prefix = "danh-sach-sang-kien" if kind is ReportKind.INITIATIVES else "tien-do-don-vi"
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in
                   f"{scope.unit.code}-{scope.phase.code}")  # fmt: skip
    return f"{prefix}-{safe}.xlsx"


class Exporter:
    """Makes the reports, whichever front end asks."""

    def __init__(
        self, units_of_work: UnitOfWorkFactory, writer: SheetWriter, batch: int = BATCH
    ) -> None:
        self._uow = units_of_work
        self._writer = writer
        self._batch = batch

    async def scope(
        self, actor: Member | None, unit_id: int, phase_id: int | None, today: dt.date
    ) -> ExportScope:
        """Who may export what (see ``export_scope``), in a transaction of its own."""
        async with self._uow() as uow:
            return await export_scope(uow, actor, unit_id, phase_id, today)

    async def by_codes(self, unit_code: str, phase_code: str | None) -> tuple[int, int | None]:
        """The ids of a unit and a phase named by their codes (today's phase for None);
        NotFound, saying which, for a code that names nothing."""
        async with self._uow() as uow:
            unit = await uow.units.by_code(unit_code.strip())
            phases = await uow.progress.phases()
        if unit is None:
            raise NotFound(_("There is no unit with the code “{code}”.",
                             code=Verbatim(unit_code)))  # fmt: skip
        if phase_code is None:
            return unit.id, None
        wanted = phase_code.strip().lower()
        phase = next((p for p in phases if p.code.lower() == wanted), None)
        if phase is None:
            raise NotFound(_("There is no phase with the code “{code}”.",
                             code=Verbatim(phase_code)))  # fmt: skip
        return unit.id, phase.id

    async def make(
        self,
        kind: ReportKind,
        actor: Member | None,
        unit_id: int,
        phase_id: int | None,
        today: dt.date,
        language: str,
        confidential: bool = True,
    ) -> Report:
        """A report of a unit's subtree in a phase (today's for None), for an admin of the
        unit or above, or the operator (``actor`` None); NotAllowed or NotFound else.
        ``confidential`` False leaves confidential details out even for those who may
        read them (a copy for people outside the review)."""
        scope = await self.scope(actor, unit_id, phase_id, today)
        if not confidential:
            scope = replace(scope, confidential=False)
        counted = [0]

        async def counting(batches: Batches) -> Batches:
            async for batch in batches:
                counted[0] += len(batch)
                yield batch

        if kind is ReportKind.INITIATIVES:
            sheet, rows = INITIATIVES_SHEET, self._initiatives(scope)
        else:
            sheet, rows = PROGRESS_SHEET, self._progress(scope)
        data = await self._writer(sheet, counting(rows), language)
        return Report(file_name(kind, scope), data, counted[0])

    async def _initiatives(self, scope: ExportScope) -> Batches:
        """The list's rows a batch at a time, each read in its own transaction: unit by
        unit (in the order units were added, so a unit's rows stay together), each unit's
        by number."""
        after = (0, 0)
        paths: dict[int, list[str]] = {}
        while True:
            async with self._uow() as uow:
                lines = await uow.reports.initiative_lines(
                    scope.unit.id, scope.phase.id, after, self._batch
                )
                unknown = sorted({line.unit.id for line in lines} - paths.keys())
                paths.update(await uow.reports.unit_paths(unknown))
            if not lines:
                return
            yield [initiative_row(line, paths.get(line.unit.id, ()), scope.confidential)
                   for line in lines]  # fmt: skip
            after = (lines[-1].unit.id, lines[-1].id)

    async def _progress(self, scope: ExportScope) -> Batches:
        """The units directly below, ranked as /stats ranks them, then the unit's own
        figures as the totals (its participants are distinct people, not a sum)."""
        async with self._uow() as uow:
            own = (await uow.progress.figures([scope.unit], scope.phase.id))[0]
            children = ranked(await uow.progress.children_figures(scope.unit.id, scope.phase.id))
        rows = [progress_row(figures, rank) for rank, figures in enumerate(children, start=1)]
        total = _("Total: {unit}", unit=Verbatim(scope.unit.name))
        rows.append(progress_row(own, None, total))
        yield rows
