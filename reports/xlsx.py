"""Writes a report's sheet as an .xlsx workbook with openpyxl's write-only mode: rows go
to a temporary file as they come, so 100.000 rows take little memory, and every call
into openpyxl runs in a worker thread, so the bot answers others meanwhile.

Headers are translated; the header row is frozen and filtered; money is a number with
thousands separators ("#,##0", shown with the reader's own separators), percentages
and instants are real numbers and dates.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from domain.ports import Renderer
from domain.reports import Batches, Cell, CellKind, Sheet
from domain.text import Text

FORMATS: dict[CellKind, str] = {
    CellKind.COUNT: "#,##0",
    CellKind.MONEY: "#,##0",
    CellKind.PERCENT: "0.0%",
    CellKind.MOMENT: "dd/mm/yyyy hh:mm",
}
# Excel's longest sheet name.
_SHEET_NAME = 31
Value = str | int | float | dt.datetime | None


class XlsxWriter:
    """A ``domain.reports.SheetWriter`` that writes .xlsx files."""

    def __init__(self, renderer: Renderer, timezone: ZoneInfo) -> None:
        self._renderer = renderer
        self._tz = timezone

    async def __call__(self, sheet: Sheet, rows: Batches, language: str) -> bytes:
        """The workbook of one sheet, its rows read a batch at a time."""
        writing = _Writing(sheet, self._renderer, language, self._tz)
        await asyncio.to_thread(writing.start)
        async for batch in rows:
            await asyncio.to_thread(writing.append, batch)
        return await asyncio.to_thread(writing.finish)


class _Writing:
    """One workbook being written; each step runs in a worker thread, one at a time."""

    def __init__(self, sheet: Sheet, renderer: Renderer, language: str, tz: ZoneInfo) -> None:
        self._sheet = sheet
        self._renderer = renderer
        self._language = language
        self._tz = tz
        self._book = Workbook(write_only=True)
        self._rows = 0
        # Labels (statuses, kinds) repeat on every row: translated once each.
        self._labels: dict[str, str] = {}

    @property
    def _ws(self) -> WriteOnlyWorksheet:
        worksheet = self._book.worksheets[0]
        assert isinstance(worksheet, WriteOnlyWorksheet)
        return worksheet

    def start(self) -> None:
        """The sheet with its column widths, frozen header row and headers."""
        title = self._renderer.render(self._sheet.title, self._language)
        ws = self._book.create_sheet(_sheet_name(title))
        for index, column in enumerate(self._sheet.columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = column.width
        # Set before the first row: a write-only sheet writes its views with it.
        ws.freeze_panes = "A2"
        bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
        headers = []
        for column in self._sheet.columns:
            cell = WriteOnlyCell(ws, self._renderer.render(column.title, self._language))
            cell.font, cell.alignment = bold, wrap
            headers.append(cell)
        ws.append(headers)

    def append(self, batch: Sequence[Sequence[Cell]]) -> None:
        """Rows of data."""
        ws = self._ws
        columns = self._sheet.columns
        for row in batch:
            cells: list[object] = []
            for column, value in zip(columns, row, strict=True):
                plain = self._value(value)
                number_format = FORMATS.get(column.kind)
                if isinstance(plain, str) and plain.startswith("="):
                    # What someone typed is text, never a formula Excel would run.
                    cell = WriteOnlyCell(ws, plain)
                    cell.data_type = "s"
                    cells.append(cell)
                elif number_format is None or plain is None:
                    cells.append(plain)
                else:
                    cell = WriteOnlyCell(ws, plain)
                    cell.number_format = number_format
                    cells.append(cell)
            ws.append(cells)
        self._rows += len(batch)

    def finish(self) -> bytes:
        """Filters on the header row over every row written; the file's bytes."""
        last = get_column_letter(len(self._sheet.columns))
        # A write-only sheet has filters (its set-up makes them); the type stubs miss them.
        self._ws.auto_filter.ref = f"A1:{last}{self._rows + 1}"  # type: ignore[attr-defined]
        buffer = io.BytesIO()
        self._book.save(buffer)
        return buffer.getvalue()

    def _value(self, value: Cell) -> Value:
        """A cell's value as Excel takes it: texts translated, instants in the union's
        clock (Excel knows no time zones), amounts as numbers."""
        if isinstance(value, Text):
            if value.args or value.plural is not None:
                return self._renderer.render(value, self._language)
            known = self._labels.get(value.msgid)
            if known is None:
                known = self._labels[value.msgid] = self._renderer.render(value, self._language)
            return known
        if isinstance(value, dt.datetime):
            local = value.astimezone(self._tz) if value.tzinfo is not None else value
            return local.replace(tzinfo=None)
        if isinstance(value, str):
            return _cleaned(value)
        if value is None or isinstance(value, (int, float)):
            return value
        return float(value)


def _sheet_name(title: str) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip()
    return cleaned[:_SHEET_NAME] or "Sheet"


def _cleaned(text: str) -> str:
    """Text without the control characters an .xlsx file cannot hold."""
    return "".join(ch for ch in text if ch in "\t\n" or ch >= " ")
