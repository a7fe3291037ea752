"""Writes a report's sheet (or several, a member's copy of their data) as an .xlsx
workbook: a zip of a few small XML files, written here directly. Each sheet's XML is
streamed into the zip row by row (each text inline in its cell), so 100.000 rows take
little memory, at about 50.000 rows a second where openpyxl's write-only workbook made
4.400; each step runs in a worker thread, so the bot answers others meanwhile. The
tests read the files back with openpyxl.

Headers are translated; the header row is frozen and filtered; money is a number with
thousands separators ("#,##0", shown with the reader's own separators), percentages
and instants are real numbers and dates; text is always stored as text, so what someone
typed as "=..." is never a formula Excel would run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import math
import re
import time
import zipfile
from collections.abc import Sequence
from typing import IO
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from domain.ports import Renderer
from domain.reports import Batches, Cell, CellKind, Sheet
from domain.text import Text

FORMATS: dict[CellKind, str] = {
    CellKind.COUNT: "#,##0",
    CellKind.MONEY: "#,##0",
    CellKind.PERCENT: "0.0%",
    CellKind.MOMENT: "dd/mm/yyyy hh:mm",
}
# Formats Excel knows by number; others are declared from 164 on.
_BUILT_IN = {"#,##0": 3, "0.0%": None, "dd/mm/yyyy hh:mm": None}
# Excel's longest sheet name and longest text in a cell.
_SHEET_NAME = 31
_CELL_TEXT = 32_767
# Excel counts days from 30/12/1899 (its 1900 leap-year error shifts no later date).
_EPOCH = dt.datetime(1899, 12, 30)
_DAY = dt.timedelta(days=1)
# Beyond 15 digits Excel keeps no whole numbers exactly.
_WHOLE = 10**15
# What XML 1.0 cannot hold (control characters, lone surrogates, U+FFFE/U+FFFF); a
# carriage return would come back as a line feed, so it goes too.
_NOT_XML = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _parts(count: int) -> dict[str, str]:
    """The package's fixed parts for a workbook of ``count`` sheets: sheet n is
    xl/worksheets/sheet{n}.xml with relation rId{n}; the styles come after them."""
    numbers = range(1, count + 1)
    sheets = "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
                     f'ContentType="{_OFFICE}.worksheet+xml"/>' for n in numbers)  # fmt: skip
    relations = "".join(f'<Relationship Id="rId{n}" Type="{_RELATIONS}/worksheet" '
                        f'Target="worksheets/sheet{n}.xml"/>' for n in numbers)  # fmt: skip
    return {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_OFFICE}.sheet.main+xml"/>'
            f'{sheets}<Override PartName="/xl/styles.xml" '
            f'ContentType="{_OFFICE}.styles+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{_PACKAGE}"><Relationship Id="rId1" '
            f'Type="{_RELATIONS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{_PACKAGE}">{relations}'
            f'<Relationship Id="rId{count + 1}" Type="{_RELATIONS}/styles" '
            'Target="styles.xml"/></Relationships>'
        ),
    }


_FONT = '<sz val="11"/><name val="Calibri"/><family val="2"/>'


class XlsxWriter:
    """A ``domain.reports.SheetWriter`` that writes .xlsx files."""

    def __init__(self, renderer: Renderer, timezone: ZoneInfo) -> None:
        self._renderer = renderer
        self._tz = timezone

    async def __call__(self, sheet: Sheet, rows: Batches, language: str) -> bytes:
        """The workbook of one sheet, its rows read a batch at a time."""
        return await self.workbook(((sheet, rows),), language)

    async def workbook(self, sheets: Sequence[tuple[Sheet, Batches]], language: str) -> bytes:
        """A workbook of several sheets, in this order, each written as the one above."""
        writing = _Writing(self._renderer, language, self._tz)
        await asyncio.to_thread(writing.start, len(sheets))
        for sheet, rows in sheets:
            await asyncio.to_thread(writing.open, sheet)
            async for batch in rows:
                await asyncio.to_thread(writing.append, batch)
            await asyncio.to_thread(writing.close)
        return await asyncio.to_thread(writing.finish)


class _Writing:
    """One workbook being written, a sheet at a time; each step runs in a worker thread,
    one at a time."""

    def __init__(self, renderer: Renderer, language: str, tz: ZoneInfo) -> None:
        self._renderer = renderer
        self._language = language
        self._tz = tz
        self._buffer = io.BytesIO()
        self._zip = zipfile.ZipFile(self._buffer, "w", zipfile.ZIP_DEFLATED)
        self._stream: IO[bytes] | None = None
        self._sheet = Sheet(Text(""), ())
        self._letters: list[str] = []
        self._styles: list[str] = []
        self._date_style = ""
        self._row = 1
        # Each sheet written: its name and the area its filter covers.
        self._written: list[tuple[str, str]] = []
        # Labels (statuses, kinds) repeat on every row: translated once each.
        self._labels: dict[str, str] = {}

    def start(self, count: int) -> None:
        """The fixed parts of a workbook of ``count`` sheets."""
        for name, xml in _parts(count).items():
            self._zip.writestr(name, _HEAD + xml)
        self._zip.writestr("xl/styles.xml", _HEAD + _styles_xml())

    def open(self, sheet: Sheet) -> None:
        """The next sheet: its columns, frozen header row and headers."""
        self._sheet = sheet
        self._letters = [_column_letter(i) for i in range(1, len(sheet.columns) + 1)]
        self._styles, self._date_style = _cell_styles(sheet)
        self._row = 1
        number = len(self._written) + 1
        sheet_part = zipfile.ZipInfo(f"xl/worksheets/sheet{number}.xml", time.localtime()[:6])
        sheet_part.compress_type = zipfile.ZIP_DEFLATED
        self._stream = self._zip.open(sheet_part, "w")
        widths = "".join(f'<col min="{i}" max="{i}" width="{c.width}" customWidth="1"/>'
                         for i, c in enumerate(self._sheet.columns, start=1))  # fmt: skip
        headers = "".join(
            _inline(f"{letter}1", _text(self._render(c.title)), ' s="1"')
            for letter, c in zip(self._letters, self._sheet.columns, strict=True)
        )
        self._stream.write((
            f'{_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_RELATIONS}">'
            '<sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{widths}</cols>'
            f'<sheetData><row r="1">{headers}</row>'
        ).encode())  # fmt: skip

    def append(self, batch: Sequence[Sequence[Cell]]) -> None:
        """Rows of data, as one piece of XML."""
        assert self._stream is not None, "open() first"
        parts: list[str] = []
        add = parts.append
        row_number = self._row
        for row in batch:
            row_number += 1
            add(f'<row r="{row_number}">')
            for letter, style, value in zip(self._letters, self._styles, row, strict=True):
                if type(value) is str:
                    add(f'<c r="{letter}{row_number}" t="inlineStr"><is>'
                        f'<t xml:space="preserve">{_text(value)}</t></is></c>')  # fmt: skip
                elif value is not None:
                    add(self._cell(f"{letter}{row_number}", style, value))
            add("</row>")
        self._stream.write("".join(parts).encode())
        self._row = row_number

    def close(self) -> None:
        """Filters on the header row over every row of the sheet written."""
        assert self._stream is not None, "open() first"
        area = f"$A$1:${self._letters[-1]}${self._row}"
        self._stream.write(
            f'</sheetData><autoFilter ref="{area.replace("$", "")}"/>'
            '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
            "</worksheet>".encode()
        )
        self._stream.close()
        self._stream = None
        taken = {name.casefold() for name, _area in self._written}
        self._written.append((_unique(_sheet_name(self._render(self._sheet.title)), taken), area))

    def finish(self) -> bytes:
        """The workbook's list of sheets; the file's bytes."""
        assert self._stream is None, "close() the last sheet first"
        sheets = "".join(f'<sheet name={quoteattr(name)} sheetId="{n}" r:id="rId{n}"/>'
                         for n, (name, _area) in enumerate(self._written, start=1))  # fmt: skip
        # Excel's own record of each filtered area, which it writes with every filter.
        filters = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
            f"{escape(_quoted(name))}!{area}</definedName>"
            for n, (name, area) in enumerate(self._written)
        )
        self._zip.writestr("xl/workbook.xml", (
            f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONS}">'
            f"<bookViews><workbookView/></bookViews><sheets>{sheets}</sheets>"
            f"<definedNames>{filters}</definedNames></workbook>"
        ))  # fmt: skip
        self._zip.close()
        return self._buffer.getvalue()

    def _cell(self, ref: str, style: str, value: Cell) -> str:
        """A cell of anything but plain text: translated text, a date, a number."""
        if isinstance(value, Text):
            return _inline(ref, self._label(value))
        if isinstance(value, str):
            return _inline(ref, _text(value))
        if isinstance(value, dt.datetime):
            # Excel knows no time zones: the union's clock.
            local = value.astimezone(self._tz) if value.tzinfo is not None else value
            days = (local.replace(tzinfo=None) - _EPOCH) / _DAY
            return f'<c r="{ref}"{self._date_style}><v>{days!r}</v></c>'
        if isinstance(value, int):
            return f'<c r="{ref}"{style}><v>{int(value)}</v></c>'
        if value is None:
            return ""
        number = float(value)
        if not math.isfinite(number):
            return ""
        # Whole amounts (Decimal from the database) read back as whole numbers.
        shown = int(number) if number.is_integer() and abs(number) < _WHOLE else number
        return f'<c r="{ref}"{style}><v>{shown!r}</v></c>'

    def _label(self, value: Text) -> str:
        """A text translated, as XML holds it; a label without arguments only once."""
        if value.args or value.plural is not None:
            return _text(self._render(value))
        known = self._labels.get(value.msgid)
        if known is None:
            known = self._labels[value.msgid] = _text(self._render(value))
        return known

    def _render(self, value: Text) -> str:
        """A text in the sheet's language."""
        return self._renderer.render(value, self._language)


def _cell_styles(sheet: Sheet) -> tuple[list[str], str]:
    """Each column's style attribute for numbers, and the one for dates (the styles of
    ``_styles_xml``: 0 plain, 1 headers, then one per format)."""
    formats = list(dict.fromkeys(FORMATS.values()))
    numbers = [f' s="{formats.index(f) + 2}"' if (f := FORMATS.get(c.kind)) else ""
               for c in sheet.columns]  # fmt: skip
    return numbers, f' s="{formats.index(FORMATS[CellKind.MOMENT]) + 2}"'


def _styles_xml() -> str:
    """The stylesheet: plain cells, bold wrapped headers, then each number format."""
    formats = list(dict.fromkeys(FORMATS.values()))
    ids = {}
    custom = 164
    for code in formats:
        known = _BUILT_IN.get(code)
        ids[code] = known if known is not None else custom
        custom += known is None
    declared = "".join(f'<numFmt numFmtId="{ids[c]}" formatCode={quoteattr(c)}/>'
                       for c in formats if ids[c] >= 164)  # fmt: skip
    numbered = "".join(f'<xf numFmtId="{ids[c]}" fontId="0" fillId="0" borderId="0" xfId="0" '
                       'applyNumberFormat="1"/>' for c in formats)  # fmt: skip
    return (
        f'<styleSheet xmlns="{_MAIN}"><numFmts count="{declared.count("<numFmt ")}">{declared}'
        f'</numFmts><fonts count="2"><font>{_FONT}</font><font><b/>{_FONT}</font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        f'</cellStyleXfs><cellXfs count="{len(formats) + 2}">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" '
        f'applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>{numbered}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def _column_letter(index: int) -> str:
    """A column's letters: 1 is A, 27 is AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _sheet_name(title: str) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of []:*?/\\, not starting
    or ending with an apostrophe."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in _NOT_XML.sub("", title))
    return cleaned.strip().strip("'").strip()[:_SHEET_NAME] or "Sheet"


def _unique(name: str, taken: set[str]) -> str:
    """A sheet name no other sheet of the workbook has (Excel compares them ignoring
    case): a number added when needed, within the 31 characters."""
    candidate, number = name, 1
    while candidate.casefold() in taken:
        number += 1
        suffix = f" ({number})"
        candidate = name[: _SHEET_NAME - len(suffix)] + suffix
    return candidate


def _quoted(name: str) -> str:
    """A sheet name as a formula quotes it."""
    return "'" + name.replace("'", "''") + "'"


def _inline(ref: str, text: str, style: str = "") -> str:
    """A cell of text (already as XML holds it), kept in the cell itself."""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _text(value: str) -> str:
    """Text as XML holds it: escaped, without what XML cannot hold, at most what a cell
    holds."""
    value = value[:_CELL_TEXT]
    # Every character XML cannot hold is unprintable: most texts skip the search.
    if not value.isprintable():
        value = _NOT_XML.sub("", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
