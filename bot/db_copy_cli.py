"""``python -m bot db copy --to URL``: the whole database into another, empty one (SQLite
to PostgreSQL for a move, or back for a backup), with a progress bar and a table of
what was verified."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from typing import TextIO

from storage.copying import CopyRefused, CopyReport, copy_database

# The bar is redrawn at most this often: a terminal over SSH stays responsive.
REFRESH_SECONDS = 0.25
BAR_WIDTH = 30
# Without a terminal (a log file), a long table still shows it moves, a line this often.
LOG_SECONDS = 10.0


def add_parser(
    database: argparse._SubParsersAction[argparse.ArgumentParser],
    run: Callable[[argparse.Namespace], int],
) -> None:
    """The ``copy`` subcommand under ``db``."""
    copying = database.add_parser(
        "copy", help="copy the whole database into another, empty one (SQLite <-> PostgreSQL)"
    )
    copying.add_argument("--to", required=True, metavar="URL",
                         help="the target, empty: postgresql+asyncpg://USER:PASSWORD@HOST/DB "
                              "or sqlite+aiosqlite:///PATH")  # fmt: skip
    copying.add_argument("--batch", type=_positive, default=5_000, metavar="N",
                         help="rows read and written at a time (default 5000)")  # fmt: skip
    copying.set_defaults(func=run)


def _positive(value: str) -> int:
    number = int(value)
    if not 1 <= number <= 1_000_000:
        raise argparse.ArgumentTypeError("give a number from 1 to 1000000")
    return number


class ProgressBar:
    """Rows done of each table on stderr: redrawn in place on a terminal; otherwise (a log
    file) a line when a table is done, and every LOG_SECONDS while a long one goes on."""

    def __init__(self, out: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self._out = out
        self._clock = clock
        self._live = out.isatty()
        self._shown = ("", -1)
        self._drawn_at = 0.0
        self._logged_at = clock()
        self._width = 0

    def __call__(self, table: str, done: int, total: int) -> None:
        """Show a table's progress, no more often than REFRESH_SECONDS."""
        now = self._clock()
        finished = done >= total
        changed = table != self._shown[0]
        if not (finished or changed or now - self._drawn_at >= REFRESH_SECONDS):
            return
        if (table, done) == self._shown:
            return
        self._shown, self._drawn_at = (table, done), now
        line = _line(table, done, total)
        if self._live:
            self._out.write("\r" + line.ljust(self._width))
            self._width = len(line)
            if finished:
                self._out.write("\n")
                self._width = 0
        elif finished or now - self._logged_at >= LOG_SECONDS:
            self._out.write(line + "\n")
            self._logged_at = now
        self._out.flush()

    def close(self) -> None:
        """End a line left unfinished (the copy stopped halfway)."""
        if self._live and self._width:
            self._out.write("\n")
            self._out.flush()
            self._width = 0


def _line(table: str, done: int, total: int) -> str:
    """'  initiatives         [#########.....]   612000/2000000'."""
    filled = BAR_WIDTH if total == 0 else min(BAR_WIDTH, BAR_WIDTH * done // total)
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    return f"  {table:<30} [{bar}] {done:>9}/{total}"


def print_report(report: CopyReport, out: TextIO) -> None:
    """The verification as a table: each table's rows on both sides and its checksum."""
    width = max([len(t.name) for t in report.tables] + [5])
    out.write(f"{'table':<{width}}  {'source rows':>11}  {'target rows':>11}  checksum\n")
    for table in report.tables:
        verdict = "ok" if table.ok else "DIFFERS"
        out.write(f"{table.name:<{width}}  {table.source_rows:>11}  {table.target_rows:>11}  "
                  f"{verdict}\n")  # fmt: skip
    target_rows = sum(t.target_rows for t in report.tables)
    out.write(f"{'total':<{width}}  {report.rows:>11}  {target_rows:>11}\n")


def db_copy(args: argparse.Namespace, source_url: str) -> int:
    """Copy, print the table; 0 when verified equal, 1 on a difference, 2 when refused."""
    bar = ProgressBar(sys.stderr)
    try:
        report = asyncio.run(copy_database(source_url, args.to, batch_rows=args.batch,
                                           progress=bar))  # fmt: skip
    except CopyRefused as refusal:
        bar.close()
        print(refusal.message, file=sys.stderr)
        return 2
    bar.close()
    print_report(report, sys.stdout)
    if report.mismatches:
        print(f"{report.mismatches} of {len(report.tables)} tables differ (marked DIFFERS): "
              "the target is left as it is for inspection, the source is untouched. Keep "
              "DATABASE_URL on the source.", file=sys.stderr)  # fmt: skip
        return 1
    print(f"Copied {report.rows} rows in {report.seconds:.1f} s; every table verified "
          f"equal (schema revision {report.revision}). Point DATABASE_URL at the target "
          "to use it.")  # fmt: skip
    return 0
