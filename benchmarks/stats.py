"""Scale benchmark: /stats and /top on a national-size data set, and the cost without counters.

Per database engine (SQLite always, PostgreSQL when reachable), on a new, migrated, empty
database (no ``examples/units.csv``):

1. Generation of a national-size data set (``benchmarks.national``), loaded with bulk
   inserts and rolled up with the bot's own code (``benchmarks.national_load``); every
   step is timed.

2. Through the REAL ``Application`` (``bot.app.build_application``) with the fake Bot
   API of ``handlers.telegram.fake`` (as ``benchmarks.dialog`` does), the bot's clock set to
   20/09/2023 (inside the phase): ``/stats`` and ``/top`` as text updates from five
   people: a joined member of the busiest grassroots unit, and admins (``roles`` rows,
   kind ``admin``) of the national unit, the largest province, the largest upper-level
   unit and the busiest grassroots unit (each admin is also a joined member of a
   grassroots unit below their own).  Per person and command: 2 unmeasured warm-up
   updates, then 50 (``--quick``: 20) sequential ones (at most 60 s each series);
   latency = put on ``application.update_queue`` → the update processor finished it.
   Each answer must contain "%"; one that does not (e.g. "unknown command" before
   ``domain/stats.py`` existed) is counted in ``answers_without_percent``.

3. The same figures without counters: approved / pending / returned counts and the
   approved benefit per top-level (province and sector) unit, by one GROUP BY over the
   whole ``initiatives`` table joined to ``unit_ancestors`` (3 runs, the median is
   ``groupby_ms``; the result is also checked against ``unit_counts``).

4. ``mismatches``: ``stored_counts()`` against ``direct_counts()`` (both the bot's own),
   rows keyed by (unit, phase); rows that are all zeros are left out on both sides
   (``direct_counts`` keeps units whose initiatives are all rejected as zero rows,
   ``stored_counts`` drops zero rows; that difference is reported as
   ``direct_zero_rows``, not as a mismatch).

The last line printed is one JSON object.  Headline keys: ``stats_p95_ms`` and
``top_p95_ms`` = the worst person (level) on the worst engine; ``groupby_ms`` = the
fastest engine's GROUP BY; ``ratio_groupby_to_stats`` = the smallest per-engine ratio
(engine GROUP BY / engine worst /stats p95); per-engine keys ``sqlite_*`` /
``postgres_*`` (null when PostgreSQL is unreachable); generation timings ``gen_*_s``.
Exit status 1 when ``mismatches`` > 0, the GROUP BY disagrees with the counters, or the
bot raised an error.

Usage: ``python -m benchmarks.stats [--quick] [--postgres-url URL] [--no-postgres]
[--keep DIR]``.  ``--keep DIR`` keeps the databases (SQLite file in DIR, PostgreSQL
database ``sangkien_stats_<units>_<initiatives>``) instead of removing them, and reuses
them on a later run of the same size when they are complete and at the current
migration (generation is then skipped and its timings are null).
"""

from __future__ import annotations

import datetime as dt
import gc
import math
import random
import statistics
import sys
import time
from argparse import Namespace
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from telegram.request import RequestData

from benchmarks import harness
from benchmarks.harness import (
    ROOT,
    Person,
    connected,
    percentile_ms,
    progress,
    real_bot,
    rounded,
    say,
)
from benchmarks.national import PHASE_CODE, SEED, Tree, build_tree, measured_people
from benchmarks.national_load import Timings, database, generate
from domain.ports import UnitCounts
from handlers.telegram.fake import FastFakeBotApi, number_updates_from, parameters_of
from storage.db import create_engine
from storage.uow import SqlUnitOfWorkFactory

STATS_MODULE = ROOT / "domain" / "stats.py"

FULL_UNITS = 100_000
QUICK_UNITS = 100_000
FULL_INITIATIVES = 2_000_000
QUICK_INITIATIVES = 200_000
FULL_REPEATS = 50
QUICK_REPEATS = 20
WARMUP = 2
SERIES_BUDGET_S = 60.0
GROUPBY_RUNS = 3
# The bot's clock: inside the phase, so "days left" and the current phase are real.
BOT_NOW = dt.datetime(2023, 9, 20, 3, 0, tzinfo=dt.UTC)


# -- measuring ---------------------------------------------------------------------


class StatsFakeBotApi(FastFakeBotApi):
    """``FastFakeBotApi`` that keeps every text sent or edited since ``expect(chat)``."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: dict[int, list[str]] = {}

    def expect(self, chat_id: int) -> None:
        """Forget the chat's buttons and texts."""
        super().expect(chat_id)
        self.texts[chat_id] = []

    async def answer(self, name: str, request_data: RequestData | None) -> tuple[int, bytes]:
        """Remember the texts, then answer as the base does."""
        if name in ("sendMessage", "editMessageText"):
            params = parameters_of(request_data)
            chat = params.get("chat_id")
            if chat is not None:
                self.texts.setdefault(int(chat), []).append(str(params.get("text", "")))
        return await super().answer(name, request_data)


@dataclass
class Series:
    """One person's run of one command."""

    key: str
    command: str
    latencies: list[float]
    without_percent: int
    sample: str

    def p(self, q: float) -> float:
        """Percentile in ms (nearest rank)."""
        return percentile_ms(self.latencies, q)


async def measure_commands(url: str, tree: Tree, repeats: int) -> tuple[list[Series], int]:
    """/stats and /top from every measured person through the real Application."""
    # Update ids unlike those of an earlier run on a kept database, which the bot would
    # ignore as redelivered (processed_events).
    number_updates_from(int(time.time() * 1000) % 2_000_000_000)
    api = StatsFakeBotApi()
    results: list[Series] = []
    async with real_bot(url, api, clock=lambda: BOT_NOW) as driver:
        for person in measured_people(tree):
            sender = Person(person.telegram_id)
            for command in ("/stats", "/top"):
                step = say(command)
                for _ in range(WARMUP):
                    await driver.send(sender, step)
                gc.collect()
                latencies: list[float] = []
                missing, sample = 0, ""
                started = time.perf_counter()
                for _ in range(repeats):
                    put, done = await driver.send(sender, step)
                    latencies.append(done - put)
                    answer = "\n".join(api.texts.get(person.telegram_id, []))
                    if "%" not in answer:
                        missing += 1
                        sample = sample or answer
                    if time.perf_counter() - started > SERIES_BUDGET_S:
                        break
                results.append(Series(person.key, command, latencies, missing, sample))
    return results, len(driver.errors)


GROUPBY_SQL = """
SELECT a.ancestor_id,
       SUM(CASE WHEN i.status = 'approved' THEN 1 ELSE 0 END) AS approved,
       SUM(CASE WHEN i.status = 'pending' THEN 1 ELSE 0 END) AS pending,
       SUM(CASE WHEN i.status = 'returned' THEN 1 ELSE 0 END) AS returned,
       SUM(CASE WHEN i.status = 'approved' THEN COALESCE(i.benefit_vnd, 0) ELSE 0 END) AS benefit
FROM initiatives i
JOIN unit_ancestors a ON a.unit_id = i.unit_id
JOIN units u ON u.id = a.ancestor_id
WHERE u.level IN ('province', 'sector') AND i.phase_id = :phase
GROUP BY a.ancestor_id
"""


async def time_groupby(url: str) -> tuple[list[float], int]:
    """The GROUP BY's run times in ms, and top-level units where it disagrees with
    ``unit_counts``."""
    runs: list[float] = []
    async with connected(url) as connection:
        phase = (
            await connection.execute(
                text("SELECT id FROM phases WHERE code = :c"), {"c": PHASE_CODE}
            )
        ).scalar_one()
        rows: Sequence[Any] = []
        for _ in range(GROUPBY_RUNS):
            started = time.perf_counter()
            rows = (await connection.execute(text(GROUPBY_SQL), {"phase": phase})).all()
            runs.append((time.perf_counter() - started) * 1000)
        stored = {
            int(r[0]): tuple(int(v) for v in r[1:])
            for r in await connection.execute(text(
                "SELECT c.unit_id, c.approved, c.pending, c.returned, c.benefit_vnd "
                "FROM unit_counts c JOIN units u ON u.id = c.unit_id "
                "WHERE u.level IN ('province', 'sector') AND c.phase_id = :phase"),
                {"phase": phase})
        }  # fmt: skip
    direct = {int(r[0]): tuple(int(v) for v in r[1:]) for r in rows}
    disagree = sum(1 for k in set(direct) | set(stored) if direct.get(k) != stored.get(k))
    return runs, disagree


@dataclass
class Check:
    """stored_counts() against direct_counts()."""

    mismatches: int
    rows: int
    direct_zero_rows: int
    stored_s: float
    direct_s: float
    samples: list[str]


def _by_unit_and_phase(
    rows: Sequence[UnitCounts],
) -> tuple[dict[tuple[int, int], tuple[int, ...]], int]:
    """The figures keyed by (unit, phase), and how many rows of zeros were left out."""
    keyed: dict[tuple[int, int], tuple[int, ...]] = {}
    for r in rows:
        figures = (r.approved, r.pending, r.returned, r.people, r.benefit_vnd)
        if any(figures):
            keyed[(r.unit_id, r.phase_id)] = figures
    return keyed, len(rows) - len(keyed)


async def check_counts(url: str) -> Check:
    """Compare the running figures with the bot's own direct count, keyed by (unit, phase)."""
    engine = create_engine(url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            started = time.perf_counter()
            stored_list = await uow.progress.stored_counts()
            stored_s = time.perf_counter() - started
            started = time.perf_counter()
            direct_list = await uow.progress.direct_counts()
            direct_s = time.perf_counter() - started
    finally:
        units_of_work.dispose()
        await engine.dispose()
    stored, _ = _by_unit_and_phase(stored_list)
    direct, zero = _by_unit_and_phase(direct_list)
    wrong = sorted(k for k in set(stored) | set(direct) if stored.get(k) != direct.get(k))
    samples = [f"unit {k[0]} phase {k[1]}: stored {stored.get(k)} direct {direct.get(k)}"
               for k in wrong[:3]]  # fmt: skip
    return Check(len(wrong), len(stored), zero, stored_s, direct_s, samples)


# -- one engine ----------------------------------------------------------------------


@dataclass
class EngineResult:
    """Everything measured on one engine."""

    engine: str
    reused: bool
    timings: dict[str, float]
    facts: dict[str, Any]
    series: list[Series]
    errors: int
    groupby_runs: list[float]
    groupby_disagree: int
    check: Check

    def worst(self, command: str) -> float:
        """The worst person's p95 for a command, ms."""
        return max((s.p(95) for s in self.series if s.command == command), default=math.nan)

    @property
    def groupby_ms(self) -> float:
        """Median of the GROUP BY runs."""
        return statistics.median(self.groupby_runs)

    @property
    def without_percent(self) -> int:
        """Measured answers without a percent sign."""
        return sum(s.without_percent for s in self.series)


async def run_engine(
    engine_name: str, postgres_url: str, tree: Tree, repeats: int, keep: Path | None
) -> EngineResult:
    """Generate (or reuse), measure, check."""
    timings = Timings()
    async with database(engine_name, postgres_url, tree, keep) as (url, reused):
        facts: dict[str, Any] = {}
        if reused:
            progress(f"{engine_name}: reusing the kept database")
        else:
            progress(f"{engine_name}: generating {len(tree.units)} units, "
                     f"{tree.initiatives} initiatives")  # fmt: skip
            started = time.perf_counter()
            facts = await generate(engine_name, url, tree, timings)
            timings.steps["total"] = time.perf_counter() - started
            progress(f"  {engine_name}: generation total {timings.steps['total']:.1f} s")
        progress(f"{engine_name}: GROUP BY without counters x{GROUPBY_RUNS}")
        runs, disagree = await time_groupby(url)
        progress(f"{engine_name}: /stats and /top, {repeats} each from 5 people")
        series, errors = await measure_commands(url, tree, repeats)
        progress(f"{engine_name}: stored_counts() against direct_counts()")
        check = await check_counts(url)
    return EngineResult(engine_name, reused, timings.steps, facts, series, errors, runs,
                        disagree, check)  # fmt: skip


# -- output --------------------------------------------------------------------------


def report(results: Sequence[EngineResult], tree: Tree) -> None:
    """The readable tables."""
    for r in results:
        print(f"== {r.engine}: {len(tree.units)} units, {tree.initiatives} initiatives"
              f"{' (kept database reused)' if r.reused else ''} ==")  # fmt: skip
        if r.timings:
            print("  generation (s): " + ", ".join(f"{k} {v:.2f}" for k, v in r.timings.items()))
        print(f"  {'person':<12}{'command':<8}{'n':>4}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
              f"{'no %':>6}")  # fmt: skip
        for s in r.series:
            print(f"  {s.key:<12}{s.command:<8}{len(s.latencies):>4}{s.p(50):>9.1f}"
                  f"{s.p(95):>9.1f}{s.p(100):>9.1f}{s.without_percent:>6}")  # fmt: skip
        print("  GROUP BY per top-level unit without counters: "
              + " / ".join(f"{ms:.0f}" for ms in r.groupby_runs)
              + f" ms (median {r.groupby_ms:.0f}); disagrees with unit_counts: "
              f"{r.groupby_disagree}")  # fmt: skip
        c = r.check
        print(f"  stored_counts {c.stored_s:.2f} s, direct_counts {c.direct_s:.2f} s: "
              f"{c.rows} rows, mismatches {c.mismatches}; direct_counts zero rows "
              f"(units with only rejected initiatives) {c.direct_zero_rows}")  # fmt: skip
        for sample in c.samples:
            print(f"    ! {sample}")
        if r.errors:
            print(f"  ! the bot raised {r.errors} errors")
        if r.without_percent:
            sample = next((s.sample for s in r.series if s.without_percent), "")
            print(f"  ! {r.without_percent} answers without '%', e.g. {sample[:160]!r}")


def summary(
    results: Sequence[EngineResult], tree: Tree, postgres_note: str | None, quick: bool
) -> tuple[dict[str, Any], bool]:
    """The JSON object and whether every check passed."""
    by = {r.engine: r for r in results}
    out: dict[str, Any] = {
        "initiatives": tree.initiatives,
        "units": len(tree.units),
        "stats_p95_ms": rounded(max(r.worst("/stats") for r in results)),
        "top_p95_ms": rounded(max(r.worst("/top") for r in results)),
        "groupby_ms": rounded(min(r.groupby_ms for r in results)),
        "ratio_groupby_to_stats": rounded(
            min(r.groupby_ms / r.worst("/stats") for r in results), 2
        ),
        "mismatches": sum(r.check.mismatches for r in results),
    }
    for engine in ("sqlite", "postgres"):
        r = by.get(engine)
        out[f"{engine}_stats_p95_ms"] = rounded(r.worst("/stats")) if r else None
        out[f"{engine}_top_p95_ms"] = rounded(r.worst("/top")) if r else None
        out[f"{engine}_groupby_ms"] = rounded(r.groupby_ms) if r else None
        out[f"{engine}_ratio_groupby_to_stats"] = (
            rounded(r.groupby_ms / r.worst("/stats"), 2) if r else None
        )
        out[f"{engine}_p50_ms"] = (
            {f"{s.key}{s.command.replace('/', '_')}": rounded(s.p(50)) for s in r.series}
            if r else None
        )  # fmt: skip
        out[f"{engine}_p95_ms"] = (
            {f"{s.key}{s.command.replace('/', '_')}": rounded(s.p(95)) for s in r.series}
            if r else None
        )  # fmt: skip
        out[f"{engine}_mismatches"] = r.check.mismatches if r else None
        out[f"{engine}_direct_counts_s"] = rounded(r.check.direct_s, 2) if r else None
        for step in ("initiatives", "rebuild_closure", "rebuild_counts", "total"):
            out[f"gen_{engine}_{step}_s"] = rounded(r.timings.get(step), 2) if r else None
    out["generation_s"] = {r.engine: {k: rounded(v, 2) for k, v in r.timings.items()}
                           for r in results}  # fmt: skip
    out["groupby_disagrees"] = sum(r.groupby_disagree for r in results)
    out["direct_zero_rows"] = max(r.check.direct_zero_rows for r in results)
    out["answers_without_percent"] = sum(r.without_percent for r in results)
    out["stats_implemented"] = STATS_MODULE.exists()
    out["errors"] = sum(r.errors for r in results)
    out["repeats"] = QUICK_REPEATS if quick else FULL_REPEATS
    out["target_200ms_met"] = bool(
        out["stats_p95_ms"] is not None and out["top_p95_ms"] is not None
        and out["stats_p95_ms"] < 200 and out["top_p95_ms"] < 200
        and out["answers_without_percent"] == 0
    )  # fmt: skip
    if postgres_note:
        out["postgres_unavailable"] = postgres_note[:200]
    ok = out["mismatches"] == 0 and out["groupby_disagrees"] == 0 and out["errors"] == 0
    out["ok"] = ok
    return out, ok


# -- main ----------------------------------------------------------------------------


async def main_async(args: Namespace) -> int:
    """Build the data set on every engine, measure, print the tables and the JSON line."""
    unit_total = QUICK_UNITS if args.quick else FULL_UNITS
    initiatives = QUICK_INITIATIVES if args.quick else FULL_INITIATIVES
    repeats = QUICK_REPEATS if args.quick else FULL_REPEATS
    started = time.perf_counter()
    tree = build_tree(unit_total, initiatives, random.Random(SEED))
    progress(f"unit tree and layout built in {time.perf_counter() - started:.1f} s: "
             f"{len(tree.units)} units ({len(tree.grassroots)} grassroots), "
             f"{tree.member_count} members")  # fmt: skip
    if not STATS_MODULE.exists():
        progress("note: domain/stats.py does not exist yet; /stats and /top are unknown commands")
    keep = Path(args.keep) if args.keep else None
    results, postgres_note = await harness.on_each_engine(
        args,
        lambda engine, url: run_engine(engine, url, tree, repeats, keep),
        f"{len(tree.units)} units, {tree.initiatives} initiatives",
    )
    print()
    print(f"/stats and /top through the real Application, {repeats} sequential updates "
          f"per person and command after {WARMUP} warm-ups; "
          "latency = queue put -> processed")  # fmt: skip
    report(results, tree)
    out, ok = summary(results, tree, postgres_note, args.quick)
    return harness.figures_line(
        out, ok, "running figures differ from a direct count, or the bot raised errors"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run."""
    parser = harness.command_line(
        "benchmarks.stats", __doc__,
        f"{QUICK_INITIATIVES} initiatives, {QUICK_REPEATS} updates per series",
    )  # fmt: skip
    parser.add_argument("--keep", metavar="DIR", default=None,
                        help="keep the databases (SQLite file in DIR) and reuse them")  # fmt: skip
    return harness.run(main_async, parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
