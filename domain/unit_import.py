"""Parse and check the unit tree CSV (code,name,parent_code,level) before it is imported.

The import is all-or-nothing: every problem in the file is collected, with its
line number, and raised together in one :class:`UnitImportError`; nothing is
returned unless the whole file is valid.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

from domain.errors import InputError
from domain.text import Text, _, n_

__all__ = [
    "CODE_PATTERN",
    "HEADER",
    "LEVELS",
    "MAX_NAME_LENGTH",
    "ImportProblem",
    "UnitImportError",
    "UnitLevel",
    "UnitRecord",
    "decode_units_csv",
    "is_valid_code",
    "parse_units_csv",
]


class UnitLevel(StrEnum):
    """Where a unit sits in the union tree."""

    NATIONAL = "national"
    PROVINCE = "province"
    SECTOR = "sector"
    UPPER = "upper"
    GRASSROOTS = "grassroots"


LEVELS: tuple[str, ...] = tuple(level.value for level in UnitLevel)
HEADER: tuple[str, ...] = ("code", "name", "parent_code", "level")
MAX_NAME_LENGTH = 200
# A unit code becomes a Telegram deep-link payload (at most 64 of A-Z a-z 0-9 _ -).
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")

_BOM = "\ufeff"

_Reporter: TypeAlias = Callable[[int, Text], None]


def is_valid_code(code: str) -> bool:
    """Tell whether ``code`` can be used as a unit code (and a Telegram start payload)."""
    return CODE_PATTERN.fullmatch(code) is not None


@dataclass(frozen=True, slots=True)
class UnitRecord:
    """One valid unit from the file; ``line`` is where it starts."""

    line: int
    code: str
    name: str
    parent_code: str | None
    level: UnitLevel


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One thing wrong with the file, on a given line."""

    line: int
    text: Text


class UnitImportError(InputError):
    """The file was rejected; ``problems`` lists every problem found, sorted by line."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        ordered = sorted(problems, key=lambda problem: problem.line)
        super().__init__(
            n_(
                "The file has {count} problem; nothing was imported.",
                "The file has {count} problems; nothing was imported.",
                len(ordered),
            )
        )
        self.problems = ordered


@dataclass(slots=True)
class _Row:
    """A data row with whatever could be read from it; None marks an unusable field."""

    line: int
    code: str
    name: str | None
    parent_code: str | None
    level: UnitLevel | None


def decode_units_csv(data: bytes) -> str:
    """Decode an uploaded file as UTF-8 (a BOM is dropped) or raise UnitImportError."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        text = _("Line {line}: the file is not UTF-8 text; save it as “CSV UTF-8”.", line=line)
        raise UnitImportError([ImportProblem(line, text)]) from exc


def parse_units_csv(content: str, existing: Mapping[str, str | None]) -> list[UnitRecord]:
    """Check the CSV against itself and ``existing`` (code → parent code); parents come first."""
    problems: list[ImportProblem] = []

    def report(line: int, text: Text) -> None:
        problems.append(ImportProblem(line, text))

    rows = _read_rows(content, report)
    by_code = _collect_rows(rows or [], report)
    _check_structure(by_code, existing, report)
    if problems:
        raise UnitImportError(problems)
    return _in_tree_order(by_code)


def _read_rows(content: str, report: _Reporter) -> list[_Row] | None:
    """Read the header and the data rows, reporting problems of single rows."""
    if content.startswith(_BOM):
        content = content[len(_BOM) :]
    reader = csv.reader(io.StringIO(content, newline=""))
    header_line: int | None = None
    rows: list[_Row] = []
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            report(
                line,
                _(
                    "Line {line}: the file cannot be read as CSV ({error}).",
                    line=line,
                    error=str(exc),
                ),
            )
            return None
        fields = [field.strip() for field in fields]
        if not any(fields):
            continue
        if header_line is None:
            header_line = line
            if tuple(field.lstrip(_BOM).lower() for field in fields) == HEADER:
                continue
            report(
                line,
                _(
                    "Line {line}: the first line must be the header “code,name,parent_code,level”.",
                    line=line,
                ),
            )
            if _looks_like_data(fields):
                rows.extend(_read_row(line, fields, report))
            continue
        rows.extend(_read_row(line, fields, report))
    if header_line is None:
        report(
            1,
            _(
                "Line {line}: the file is empty; the first line must be the header "
                "“code,name,parent_code,level”.",
                line=1,
            ),
        )
        return None
    if not rows:
        report(header_line, _("Line {line}: the file has a header but no units.", line=header_line))
    return rows


def _looks_like_data(fields: list[str]) -> bool:
    """Tell whether a line that should be the header is really the first unit."""
    return len(fields) == len(HEADER) and is_valid_code(fields[0]) and fields[3].lower() in LEVELS


def _read_row(line: int, fields: list[str], report: _Reporter) -> list[_Row]:
    """Check the fields of one data row; return it if its code is usable."""
    if len(fields) != len(HEADER):
        report(
            line,
            _(
                "Line {line}: expected 4 columns (code,name,parent_code,level), found {count}.",
                line=line,
                count=len(fields),
            ),
        )
        return []
    code, raw_name, raw_parent, raw_level = fields
    name: str | None = " ".join(unicodedata.normalize("NFC", raw_name).split())
    if not name:
        report(line, _("Line {line}: the name is empty.", line=line))
        name = None
    elif len(name) > MAX_NAME_LENGTH:
        report(
            line,
            _(
                "Line {line}: the name has {length} characters; at most {limit} are allowed.",
                line=line,
                length=len(name),
                limit=MAX_NAME_LENGTH,
            ),
        )
        name = None
    level: UnitLevel | None = None
    if raw_level.lower() in LEVELS:
        level = UnitLevel(raw_level.lower())
    else:
        report(
            line,
            _(
                "Line {line}: unknown level “{level}”; use one of: {allowed}.",
                line=line,
                level=raw_level,
                allowed=", ".join(LEVELS),
            ),
        )
    if not is_valid_code(code):
        report(
            line,
            _(
                "Line {line}: the code “{code}” is not valid: it becomes part of a "
                "Telegram link, so use 1 to 32 letters (A–Z, a–z), digits, “_” or “-”, "
                "without spaces or accents.",
                line=line,
                code=code,
            ),
        )
        return []
    return [_Row(line, code, name, raw_parent or None, level)]


def _collect_rows(rows: list[_Row], report: _Reporter) -> dict[str, _Row]:
    """Index rows by code, reporting every repeated code (the first one is kept)."""
    by_code: dict[str, _Row] = {}
    for row in rows:
        first = by_code.get(row.code)
        if first is None:
            by_code[row.code] = row
        else:
            report(
                row.line,
                _(
                    "Line {line}: the code “{code}” is already used on line {first}.",
                    line=row.line,
                    code=row.code,
                    first=first.line,
                ),
            )
    return by_code


def _check_structure(
    by_code: dict[str, _Row], existing: Mapping[str, str | None], report: _Reporter
) -> None:
    """Check parents, levels and cycles across the file and the existing units."""
    for row in by_code.values():
        parent = row.parent_code
        if row.level is UnitLevel.NATIONAL and parent is not None:
            report(
                row.line,
                _(
                    "Line {line}: a national unit has no parent; leave parent_code empty.",
                    line=row.line,
                ),
            )
        elif row.level is not None and row.level is not UnitLevel.NATIONAL and parent is None:
            report(
                row.line,
                _(
                    "Line {line}: a {level} unit needs a parent_code.",
                    line=row.line,
                    level=row.level.value,
                ),
            )
        if parent is None:
            continue
        if parent == row.code:
            report(
                row.line,
                _(
                    "Line {line}: the unit “{code}” cannot be its own parent.",
                    line=row.line,
                    code=row.code,
                ),
            )
        elif parent not in by_code and parent not in existing:
            report(
                row.line,
                _(
                    "Line {line}: the parent code “{parent}” is neither in this file "
                    "nor among the existing units.",
                    line=row.line,
                    parent=parent,
                ),
            )
        elif parent in by_code and by_code[parent].level is UnitLevel.GRASSROOTS:
            report(
                row.line,
                _(
                    "Line {line}: “{parent}” (line {parent_line}) is a grassroots "
                    "unit and cannot have units under it.",
                    line=row.line,
                    parent=parent,
                    parent_line=by_code[parent].line,
                ),
            )
    for code, parent in existing.items():
        above = by_code.get(parent) if parent is not None else None
        if code not in by_code and above is not None and above.level is UnitLevel.GRASSROOTS:
            report(
                above.line,
                _(
                    "Line {line}: “{code}” cannot become a grassroots unit because "
                    "the existing unit “{child}” is under it.",
                    line=above.line,
                    code=above.code,
                    child=code,
                ),
            )
    for cycle in _cycles(by_code, existing):
        first = min((by_code[code] for code in cycle if code in by_code), key=lambda r: r.line)
        start = cycle.index(first.code)
        loop = [*cycle[start:], *cycle[:start], first.code]
        report(
            first.line,
            _(
                "Line {line}: the parent codes go round in a loop: {loop}.",
                line=first.line,
                loop=" → ".join(loop),
            ),
        )


def _effective_parents(
    by_code: dict[str, _Row], existing: Mapping[str, str | None]
) -> dict[str, str | None]:
    """Parent of every known code once the file is applied (the file overrides ``existing``)."""
    parents = dict(existing)
    for code, row in by_code.items():
        parents[code] = row.parent_code if row.parent_code != code else None
    return parents


def _cycles(by_code: dict[str, _Row], existing: Mapping[str, str | None]) -> list[list[str]]:
    """Every loop in the parent links that passes through a unit of the file, once each."""
    parents = _effective_parents(by_code, existing)
    done: set[str] = set()
    cycles: list[list[str]] = []
    for start in sorted(by_code, key=lambda code: by_code[code].line):
        path: list[str] = []
        position: dict[str, int] = {}
        code: str | None = start
        while code is not None and code not in done and code not in position:
            position[code] = len(path)
            path.append(code)
            code = parents.get(code)
        if code is not None and code in position:
            cycle = path[position[code] :]
            if any(member in by_code for member in cycle):
                cycles.append(cycle)
        done.update(path)
    return cycles


def _in_tree_order(by_code: dict[str, _Row]) -> list[UnitRecord]:
    """Records in file order, except that every parent in the file comes before its children."""
    placed: set[str] = set()
    ordered: list[UnitRecord] = []
    for row in sorted(by_code.values(), key=lambda r: r.line):
        chain: list[_Row] = []
        current: _Row | None = row
        while current is not None and current.code not in placed:
            chain.append(current)
            placed.add(current.code)
            parent = current.parent_code
            current = by_code.get(parent) if parent is not None else None
        for item in reversed(chain):
            assert item.name is not None and item.level is not None
            ordered.append(
                UnitRecord(item.line, item.code, item.name, item.parent_code, item.level)
            )
    return ordered
