"""Moving day benchmark: ``python -m bot db copy`` from SQLite to PostgreSQL on the national
data set.

1. A SQLite database with the national data set of ``benchmarks.national`` (loaded by
   ``benchmarks.national_load``, as ``benchmarks.web`` does): 100.000 units and
   2.000.000 initiatives, with their members, targets, participants and roll-ups
   (``--quick``: 5.000 units, 50.000 initiatives). With ``--keep`` it is kept in
   /tmp/bench-copy and reused by the next run of the same size (one made before a later
   migration is migrated first).
2. A fresh, empty PostgreSQL database (``--postgres-url``'s server), dropped afterwards.
3. ``python -m bot --database-url SQLITE db copy --to POSTGRES`` in a process of its own,
   as an operator runs it: its wall time, its peak resident memory (``VmHWM``, read by
   that process from /proc at its end), the rows it copied and the tables it found
   different (the table it prints: any ``DIFFERS`` counts).

The last line is JSON: ``rows``, ``seconds``, ``rows_per_second``, ``peak_rss_mb``,
``mismatches`` (0), ``exit_status`` (0), the data set's size and the generation's time.
Exit status 1 when the copy failed or found a difference.

Usage: ``python -m benchmarks.copy [--quick] [--keep] [--batch N] [--postgres-url URL]``.
"""

from __future__ import annotations

import asyncio
import random
import re
import subprocess
import sys
import time
import uuid
from argparse import Namespace
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks import harness
from benchmarks.harness import ROOT, progress, rounded
from benchmarks.national import SEED, Tree, build_tree
from benchmarks.national_load import Timings, database, generate

FULL_UNITS, FULL_INITIATIVES = 100_000, 2_000_000
QUICK_UNITS, QUICK_INITIATIVES = 5_000, 50_000
KEEP_DIR = Path("/tmp/bench-copy")
COPY_TIMEOUT_S = 3_600.0
# The copy command's last table line: "total  <source rows>  <target rows>".
TOTAL = re.compile(r"^total\s+(\d+)\s+(\d+)\s*$", re.MULTILINE)


@dataclass
class Copied:
    """What the copy command did."""

    status: int
    seconds: float
    peak_rss_mb: float
    rows: int
    mismatches: int
    said: str


# The copy in a process of its own, which says its peak resident memory at the end: VmHWM
# of its own address space. (``wait4``'s ru_maxrss would count the benchmark's memory, the
# generated data set's included: the child is forked from it before it starts Python anew.)
CHILD = """
import sys
from bot.__main__ import main
try:
    status = main(sys.argv[1:])
finally:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            print("peak_rss_kb", line.split()[1], flush=True)
sys.exit(status)
"""
PEAK = re.compile(r"^peak_rss_kb (\d+)$", re.MULTILINE)


def run_copy(source_url: str, target_url: str, batch: int) -> Copied:
    """The command in a process of its own: its time, and its peak memory as it says."""
    command = [sys.executable, "-c", CHILD, "--database-url", source_url, "db", "copy",
               "--to", target_url, "--batch", str(batch)]  # fmt: skip
    started = time.perf_counter()
    # The progress goes to this process's stderr as it comes (a line per table).
    child = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False,
                           timeout=COPY_TIMEOUT_S)  # fmt: skip
    seconds = time.perf_counter() - started
    total, peak = TOTAL.search(child.stdout), PEAK.search(child.stdout)
    return Copied(
        status=child.returncode,
        seconds=seconds,
        peak_rss_mb=int(peak.group(1)) / 1024 if peak else 0.0,
        rows=int(total.group(1)) if total else 0,
        mismatches=sum(1 for line in child.stdout.splitlines() if line.endswith("DIFFERS")),
        said=PEAK.sub("", child.stdout),
    )


async def measure(args: Namespace) -> int:
    """Generate or reuse the source, copy it to a fresh PostgreSQL database, report."""
    unit_total = QUICK_UNITS if args.quick else FULL_UNITS
    initiatives = QUICK_INITIATIVES if args.quick else FULL_INITIATIVES
    tree = build_tree(unit_total, initiatives, random.Random(SEED))
    note = await harness.postgres_reachable(args.postgres_url)
    if note is not None:
        return harness.figures_line({"postgres_unavailable": note[:200]}, False, note)
    keep = KEEP_DIR if args.keep else None
    if keep is not None:
        path = keep / f"stats-{len(tree.units)}-{tree.initiatives}.db"
        if path.exists():
            await harness.migrate_kept(f"sqlite+aiosqlite:///{path}")
    # Without --keep the source is a temporary file, gone at the end of the block.
    async with database("sqlite", args.postgres_url, tree, keep) as (url, reused):
        generated = None
        if reused:
            progress(f"sqlite: reusing the kept database {url.split('///', 1)[-1]}")
        else:
            progress(f"sqlite: generating {len(tree.units)} units, {tree.initiatives} "
                     "initiatives")  # fmt: skip
            started = time.perf_counter()
            await generate("sqlite", url, tree, Timings())
            generated = time.perf_counter() - started
        name = f"sangkien_copy_{uuid.uuid4().hex[:10]}"
        async with harness.postgres_database(args.postgres_url, name, keep=False) as target:
            progress(f"copying to a fresh PostgreSQL database ({name})")
            copied = await asyncio.to_thread(run_copy, url, target, args.batch)
    return report(copied, tree, generated)


def report(copied: Copied, tree: Tree, generated: float | None) -> int:
    """The command's table, the figures and the JSON line."""
    print(copied.said.rstrip())
    rate = copied.rows / copied.seconds if copied.seconds else 0.0
    print(f"\n{copied.rows} rows in {copied.seconds:.1f} s ({rate:.0f} rows/s), peak RSS "
          f"{copied.peak_rss_mb:.0f} MB, {copied.mismatches} tables differing, exit "
          f"{copied.status}")  # fmt: skip
    out = {
        "rows": copied.rows,
        "seconds": rounded(copied.seconds, 2),
        "rows_per_second": rounded(rate, 0),
        "peak_rss_mb": rounded(copied.peak_rss_mb),
        "mismatches": copied.mismatches,
        "exit_status": copied.status,
        "units": len(tree.units),
        "initiatives": tree.initiatives,
        "generation_s": rounded(generated, 1),
    }
    ok = copied.status == 0 and copied.mismatches == 0 and copied.rows > tree.initiatives
    return harness.figures_line(out, ok, "the copy failed or found a difference")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run."""
    parser = harness.command_line(
        "benchmarks.copy", __doc__, f"{QUICK_UNITS} units, {QUICK_INITIATIVES} initiatives"
    )
    parser.add_argument("--keep", action="store_true",
                        help=f"keep the SQLite source in {KEEP_DIR} and reuse it")  # fmt: skip
    parser.add_argument("--batch", type=int, default=5_000, help="the copy's --batch")
    return harness.run(measure, parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
