"""Staff web view benchmark: the review queue and progress pages at national scale, and an
Excel export of 100.000 initiatives.

Per database engine (SQLite always, PostgreSQL when reachable), on the national data set
of ``benchmarks.stats`` (``benchmarks.national``, loaded by ``benchmarks.national_load``):
100.000 units and 2.000.000 initiatives (``--quick``: 20.000 units, 200.000 initiatives),
15 % of them pending.

1. The bot as ``python -m bot run`` builds and starts it (``build_runtime``, a fake
   Telegram, the clock on 20/09/2023, inside the phase) with ``PUBLIC_URL`` set, so it
   serves the staff web view; its HTTP side runs on a local port (aiohttp's test server).
   Four admins of the data set (the national unit, the largest province, the largest
   upper-level unit, the busiest grassroots unit) get a session as signing in would
   give them (``domain.web_access.open_session``); each request carries its cookie.

2. The queue page (``GET /web/queue``): per admin, three pages - the first page, page 50
   (the last page when there are fewer), and narrowed by kind, field and 30 days waited;
   2 unmeasured requests, then 30 (``--quick``: 10) sequential ones each (at most 30 s a
   series). Latency = the client's request until the whole body is read. Every answer
   must be 200; any other status is counted in ``bad_answers``. (A narrowed queue is
   counted only up to ``domain.ports.NARROWED_COUNT_LIMIT``; past it the page says
   "more than", so the narrowed series measures a bounded count.)

3. The progress page (``GET /web/progress``), the same way, for each admin: their own
   unit and, when the page offers it, a unit one level below (drilled into); measured
   only when ``handlers/web/progress.py`` exists (else ``progress_p95_ms`` is null).

4. An export of about 100.000 initiatives (``--quick``: 20.000): the upper-level or
   province unit whose subtree holds the nearest number of submitted initiatives of the
   phase, exported by ``python -m bot export initiatives --unit CODE --phase GD2`` in a
   process of its own: its wall time and its peak resident memory (``VmHWM``, read by
   that process from /proc at its end); the rows written are those the command reports.

Headline figures (the last line, JSON): ``queue_p95_ms`` and ``progress_p95_ms`` = the
worst series (admin and page) on the worst engine; ``export_rows``,
``export_seconds``, ``export_peak_rss_mb`` = the worst engine's; per-engine keys
``sqlite_*`` / ``postgres_*``. Goals: pages under 100 ms p95, the export under 30 s and
200 MB. Exit status 1 when a page answered other than 200, the bot raised an error or
the export failed.

Usage: ``python -m benchmarks.web [--quick] [--postgres-url URL] [--no-postgres]
[--keep DIR] [--pages-only | --export-only]``; ``--pages-only`` measures the pages and
skips the export (its keys are then null), ``--export-only`` the other way round;
``--keep DIR`` keeps the generated databases and reuses them on a later run of the same
size (as ``benchmarks.stats --keep`` does, whose databases it shares; a kept database
behind the current migration is brought up to it).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import random
import re
import subprocess
import sys
import tempfile
import time
from argparse import Namespace
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from benchmarks import harness
from benchmarks.harness import ROOT, bot_settings, connected, percentile_ms, progress
from benchmarks.harness import rounded as _rounded
from benchmarks.national import PHASE_CODE, SEED, Tree, build_tree, measured_people
from benchmarks.national_load import Timings, database, generate
from bot.serve import build_runtime
from domain.web_access import open_session
from handlers.telegram.fake import FastFakeBotApi
from handlers.web.context import COOKIE

FULL_UNITS, FULL_INITIATIVES = 100_000, 2_000_000
QUICK_UNITS, QUICK_INITIATIVES = 20_000, 200_000
FULL_REQUESTS, QUICK_REQUESTS = 30, 10
FULL_EXPORT, QUICK_EXPORT = 100_000, 20_000
WARMUP = 2
SERIES_BUDGET_S = 30.0
EXPORT_TIMEOUT_S = 600.0
# A page not answered in this time counts as not answered (status 0) and ends its series.
REQUEST_TIMEOUT_S = 60.0
PUBLIC_URL = "http://bench.test"
BOT_NOW = dt.datetime(2023, 9, 20, 3, 0, tzinfo=dt.UTC)
PROGRESS_MODULE = ROOT / "handlers" / "web" / "progress.py"
GOAL_PAGE_MS = 100.0
GOAL_EXPORT_S = 30.0
GOAL_EXPORT_MB = 200.0
QUEUE_PAGES = (
    ("first", "/web/queue"),
    ("page50", "/web/queue?page=50"),
    ("narrowed", "/web/queue?kind=technical&field=production&waited=30"),
)
# A row of the progress page's table: a unit below the one shown, to drill into.
DRILL = re.compile(r'<tr data-unit="(\d+)"')


def rounded(value: float | None, digits: int = 1) -> float | None:
    """A figure for the JSON line: null where there is none."""
    return _rounded(value, digits)


# -- the data set --------------------------------------------------------------------


async def bring_up_to_date(engine_name: str, postgres_url: str, tree: Tree, keep: Path) -> None:
    """A kept database of this size made before a later migration: migrate it, so that
    ``national_load.database`` reuses it rather than generating it again."""
    if engine_name == "sqlite":
        path = keep / f"stats-{len(tree.units)}-{tree.initiatives}.db"
        if not path.exists():
            return
        url = f"sqlite+aiosqlite:///{path}"
    else:
        name = f"sangkien_stats_{len(tree.units)}_{tree.initiatives}"
        url = harness.database_url(postgres_url, name)
    await harness.migrate_kept(url)


# -- the bot and its web view ------------------------------------------------------------


@dataclass
class Series:
    """One admin's run of one page."""

    key: str
    page: str
    latencies: list[float] = field(default_factory=list)
    bad: int = 0
    size: int = 0

    def p(self, q: float) -> float:
        """Percentile in ms (nearest rank)."""
        return percentile_ms(self.latencies, q)


@contextlib.asynccontextmanager
async def web_bot(url: str) -> AsyncIterator[tuple[Any, TestClient[Any, Any]]]:
    """The bot started as ``python -m bot run`` starts it, its HTTP side on a local port."""
    settings = bot_settings(url, public_url=PUBLIC_URL)
    runtime = build_runtime(settings, request=FastFakeBotApi(), clock=lambda: BOT_NOW)
    await runtime.start()
    client: TestClient[Any, Any] = TestClient(TestServer(runtime.http_side(False)))
    try:
        await client.start_server()
        yield runtime, client
    finally:
        await client.close()
        await runtime.stop()


async def sessions(runtime: Any, tree: Tree) -> dict[str, str]:
    """A signed-in session for each measured admin, as signing in by link opens it."""
    found: dict[str, str] = {}
    lifetime = dt.timedelta(hours=runtime.settings.web_session_hours)
    for person in measured_people(tree)[1:]:
        async with runtime.graph.units_of_work() as uow:
            opened = await open_session(uow, person.member_id, BOT_NOW, lifetime)
            await uow.commit()
        found[person.key] = opened.session_id
    return found


async def timed_get(client: TestClient[Any, Any], path: str, cookie: str) -> tuple[float, int, str]:
    """One GET with the session's cookie: seconds until the body is read, status (0 when
    not answered in time), body."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            response = await client.get(path, headers={"Cookie": f"{COOKIE}={cookie}"},
                                        allow_redirects=False)  # fmt: skip
            body = await response.text()
    except TimeoutError:
        return time.perf_counter() - started, 0, ""
    return time.perf_counter() - started, response.status, body


async def measure_page(
    client: TestClient[Any, Any], key: str, page: str, path: str, cookie: str, repeats: int
) -> Series:
    """Warm-ups, then ``repeats`` sequential requests of one page (within the budget; a
    request not answered in time ends the series)."""
    series = Series(key, page)
    for _ in range(WARMUP):
        seconds, status, _body = await timed_get(client, path, cookie)
        if status == 0:
            series.latencies.append(seconds)
            series.bad += 1
            progress(f"    {key} {page}: not answered in {REQUEST_TIMEOUT_S:.0f} s")
            return series
    gc.collect()
    started = time.perf_counter()
    for _ in range(repeats):
        seconds, status, body = await timed_get(client, path, cookie)
        series.latencies.append(seconds)
        series.size = len(body.encode())
        if status != 200:
            series.bad += 1
        if status == 0 or time.perf_counter() - started > SERIES_BUDGET_S:
            break
    progress(
        f"    {key} {page}: n {len(series.latencies)}, p50 {series.p(50):.1f} ms, "
        f"p95 {series.p(95):.1f} ms, {series.size // 1024} KB, not 200: {series.bad}"
    )
    return series


async def measure_pages(url: str, tree: Tree, repeats: int) -> tuple[list[Series], int]:
    """The queue and (once it exists) the progress page of every admin; the bot's errors."""
    results: list[Series] = []
    async with web_bot(url) as (runtime, client):
        cookies = await sessions(runtime, tree)
        for key, cookie in cookies.items():
            for page, path in QUEUE_PAGES:
                results.append(await measure_page(client, key, f"queue:{page}", path, cookie,
                                                  repeats))  # fmt: skip
            if PROGRESS_MODULE.exists():
                results.extend(await measure_progress(client, key, cookie, repeats))
        errors = int(runtime.metrics.registry.get_sample_value("bot_handler_errors_total") or 0)
    return results, errors


async def measure_progress(
    client: TestClient[Any, Any], key: str, cookie: str, repeats: int
) -> list[Series]:
    """The progress page of the admin's own unit, and of the first unit it links below."""
    own = await measure_page(client, key, "progress:own", "/web/progress", cookie, repeats)
    found = [own]
    _seconds, status, body = await timed_get(client, "/web/progress", cookie)
    below = DRILL.search(body) if status == 200 else None
    if below is not None:
        path = f"/web/progress?unit={below.group(1)}"
        found.append(await measure_page(client, key, "progress:below", path, cookie, repeats))
    return found


# -- the export ------------------------------------------------------------------------


@dataclass
class Export:
    """One export by the command line, in a process of its own."""

    unit: str
    expected: int
    rows: int
    seconds: float
    peak_rss_mb: float
    status: int
    output: str


async def export_unit(url: str, wanted: int) -> tuple[str, int]:
    """The upper-level or top-level unit whose subtree holds the number of submitted
    initiatives of the phase nearest to ``wanted``; and that number."""
    async with connected(url) as connection:
        phase = (await connection.execute(text("SELECT id FROM phases WHERE code = :c"),
                                          {"c": PHASE_CODE})).scalar_one()  # fmt: skip
        # unit_counts has no rejected column: an estimate to choose by, counted after.
        rows = (await connection.execute(text(
            "SELECT u.code, u.id, c.approved + c.pending + c.returned AS listed "
            "FROM unit_counts c JOIN units u ON u.id = c.unit_id "
            "WHERE c.phase_id = :p AND u.level IN ('upper', 'province', 'sector')"),
            {"p": phase})).all()  # fmt: skip
        code, unit_id, _listed = min(rows, key=lambda r: abs(r.listed / 0.9 - wanted))
        exact = (await connection.execute(text(
            "SELECT count(*) FROM initiatives i JOIN unit_ancestors a ON a.unit_id = i.unit_id "
            "WHERE a.ancestor_id = :u AND i.phase_id = :p "
            "AND i.status IN ('pending', 'approved', 'returned', 'rejected')"),
            {"u": unit_id, "p": phase})).scalar_one()  # fmt: skip
    return str(code), int(exact)


# The export in a process of its own, which says its peak resident memory at the end:
# VmHWM of its own address space. (``wait4``'s ru_maxrss would count the benchmark's
# memory too: the child is forked from it before it starts Python anew.)
CHILD = """
import sys
from bot.__main__ import main
try:
    status = main(sys.argv[1:])
finally:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            print("peak_rss_kb", line.split()[1], file=sys.stderr)
sys.exit(status)
"""


def run_export(url: str, unit: str, out: Path) -> tuple[int, float, float, str]:
    """``python -m bot export initiatives`` in a child process: exit status, seconds,
    peak resident memory in MB, its output."""
    command = [sys.executable, "-c", CHILD, "--database-url", url, "export", "initiatives",
               "--unit", unit, "--phase", PHASE_CODE, "--out", str(out)]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False,
                          timeout=EXPORT_TIMEOUT_S)  # fmt: skip
    seconds = time.perf_counter() - started
    said = done.stdout + done.stderr
    peak = re.search(r"peak_rss_kb (\d+)", said)
    return done.returncode, seconds, int(peak.group(1)) / 1024 if peak else -1.0, said


async def measure_export(url: str, wanted: int) -> Export:
    """Export the chosen unit's list of initiatives by the command line."""
    unit, expected = await export_unit(url, wanted)
    progress(f"  export of {unit}: {expected} initiatives")
    with tempfile.TemporaryDirectory(prefix="sangkien-web-") as directory:
        out = Path(directory) / "export.xlsx"
        status, seconds, peak, said = await asyncio.to_thread(run_export, url, unit, out)
    counted = re.search(r": (\d+) rows", said)
    rows = int(counted.group(1)) if counted else -1
    return Export(unit, expected, rows, seconds, peak, status, said.strip()[-300:])


# -- one engine ------------------------------------------------------------------------


@dataclass
class EngineResult:
    """Everything measured on one engine."""

    engine: str
    reused: bool
    timings: dict[str, float]
    series: list[Series]
    errors: int
    export: Export | None

    def worst(self, prefix: str) -> float | None:
        """The worst series' p95 among pages starting with ``prefix``, ms."""
        figures = [s.p(95) for s in self.series if s.page.startswith(prefix)]
        return max(figures) if figures else None

    @property
    def bad(self) -> int:
        """Answers other than 200."""
        return sum(s.bad for s in self.series)


async def run_engine(
    engine_name: str, postgres_url: str, tree: Tree, args: Namespace, keep: Path | None
) -> EngineResult:
    """Generate (or reuse) the data set, then measure the pages and the export."""
    timings = Timings()
    if keep is not None:
        await bring_up_to_date(engine_name, postgres_url, tree, keep)
    async with database(engine_name, postgres_url, tree, keep) as (url, reused):
        if reused:
            progress(f"{engine_name}: reusing the kept database")
        else:
            progress(f"{engine_name}: generating {len(tree.units)} units, "
                     f"{tree.initiatives} initiatives")  # fmt: skip
            started = time.perf_counter()
            await generate(engine_name, url, tree, timings)
            timings.steps["total"] = time.perf_counter() - started
        series: list[Series] = []
        errors = 0
        if not args.export_only:
            repeats = QUICK_REQUESTS if args.quick else FULL_REQUESTS
            progress(f"{engine_name}: web pages, {repeats} requests per admin and page")
            series, errors = await measure_pages(url, tree, repeats)
        export = None
        if not args.pages_only:
            progress(f"{engine_name}: export by the command line")
            export = await measure_export(url, QUICK_EXPORT if args.quick else FULL_EXPORT)
    return EngineResult(engine_name, reused, timings.steps, series, errors, export)


# -- output ------------------------------------------------------------------------------


def report(results: Sequence[EngineResult], tree: Tree) -> None:
    """The readable tables."""
    for r in results:
        print(f"== {r.engine}: {len(tree.units)} units, {tree.initiatives} initiatives"
              f"{' (kept database reused)' if r.reused else ''} ==")  # fmt: skip
        if r.timings:
            print(f"  generation {r.timings.get('total', 0):.1f} s")
        print(f"  {'admin of':<12}{'page':<18}{'n':>4}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
              f"{'KB':>8}{'not 200':>9}")  # fmt: skip
        for s in r.series:
            print(f"  {s.key:<12}{s.page:<18}{len(s.latencies):>4}{s.p(50):>9.1f}"
                  f"{s.p(95):>9.1f}{s.p(100):>9.1f}{s.size / 1024:>8.0f}{s.bad:>9}")  # fmt: skip
        e = r.export
        if e is None:
            continue
        print(f"  export of {e.unit} ({e.expected} initiatives): {e.rows} rows in "
              f"{e.seconds:.1f} s, peak RSS {e.peak_rss_mb:.0f} MB, exit {e.status}")  # fmt: skip
        if e.status != 0:
            print(f"  ! export said: {e.output}")
        if r.errors:
            print(f"  ! the bot raised {r.errors} errors")


def _engine_figures(r: EngineResult | None, engine: str) -> dict[str, Any]:
    """The per-engine keys (null when the engine was not measured)."""
    return {
        f"{engine}_queue_p95_ms": rounded(r.worst("queue")) if r else None,
        f"{engine}_progress_p95_ms": rounded(r.worst("progress")) if r else None,
        f"{engine}_p95_ms": {f"{s.key}:{s.page}": rounded(s.p(95)) for s in r.series}
        if r
        else None,
        f"{engine}_export_rows": e.rows if (e := r and r.export) else None,
        f"{engine}_export_seconds": rounded(e.seconds, 2) if (e := r and r.export) else None,
        f"{engine}_export_peak_rss_mb": rounded(e.peak_rss_mb) if (e := r and r.export) else None,
        f"{engine}_generation_s": rounded(r.timings.get("total"), 1) if r else None,
    }


def summary(
    results: Sequence[EngineResult], tree: Tree, postgres_note: str | None
) -> tuple[dict[str, Any], bool]:
    """The JSON object and whether every check passed."""
    by = {r.engine: r for r in results}
    queue = [q for r in results if (q := r.worst("queue")) is not None]
    pages = [p for r in results if (p := r.worst("progress")) is not None]
    exports = [r.export for r in results if r.export is not None]
    slowest = max(exports, key=lambda e: e.seconds) if exports else None
    out: dict[str, Any] = {
        "initiatives": tree.initiatives,
        "units": len(tree.units),
        "queue_p95_ms": rounded(max(queue)) if queue else None,
        "progress_p95_ms": rounded(max(pages)) if pages else None,
        "export_rows": slowest.rows if slowest else None,
        "export_seconds": rounded(slowest.seconds, 2) if slowest else None,
        "export_peak_rss_mb": rounded(max(e.peak_rss_mb for e in exports)) if exports else None,
    }
    for engine in ("sqlite", "postgres"):
        out.update(_engine_figures(by.get(engine), engine))
    out["export_unit"] = slowest.unit if slowest else None
    out["bad_answers"] = sum(r.bad for r in results)
    out["errors"] = sum(r.errors for r in results)
    out["progress_page"] = PROGRESS_MODULE.exists()
    out["goals_met"] = {
        "pages_under_100ms": bool(queue) and max(queue + pages) < GOAL_PAGE_MS,
        "export_under_30s": bool(slowest) and out["export_seconds"] < GOAL_EXPORT_S,
        "export_under_200mb": bool(exports) and out["export_peak_rss_mb"] < GOAL_EXPORT_MB,
    }
    if postgres_note:
        out["postgres_unavailable"] = postgres_note[:200]
    exported = all(e.status == 0 and e.rows == e.expected for e in exports)
    ok = out["bad_answers"] == 0 and out["errors"] == 0 and exported
    out["ok"] = ok
    return out, ok


# -- main --------------------------------------------------------------------------------


async def main_async(args: Namespace) -> int:
    """Build the data set on every engine, measure, print the tables and the JSON line."""
    unit_total = QUICK_UNITS if args.quick else FULL_UNITS
    initiatives = QUICK_INITIATIVES if args.quick else FULL_INITIATIVES
    tree = build_tree(unit_total, initiatives, random.Random(SEED))
    keep = Path(args.keep) if args.keep else None
    results, postgres_note = await harness.on_each_engine(
        args,
        lambda engine, url: run_engine(engine, url, tree, args, keep),
        f"{len(tree.units)} units, {tree.initiatives} initiatives",
    )
    print()
    print("Staff web pages over HTTP (latency: request until the body is read, sequential); "
          "the export by `python -m bot export` in a process of its own")  # fmt: skip
    report(results, tree)
    out, ok = summary(results, tree, postgres_note)
    return harness.figures_line(
        out, ok, "a page answered other than 200, the bot raised errors, or the export failed"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run."""
    parser = harness.command_line(
        "benchmarks.web", __doc__,
        f"{QUICK_UNITS} units, {QUICK_INITIATIVES} initiatives, {QUICK_REQUESTS} requests a "
        f"series, an export of about {QUICK_EXPORT}",
    )  # fmt: skip
    parser.add_argument("--keep", metavar="DIR", default=None,
                        help="keep the databases (SQLite file in DIR) and reuse them")  # fmt: skip
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--pages-only", action="store_true",
                      help="measure the pages only, not the export")  # fmt: skip
    only.add_argument("--export-only", action="store_true",
                      help="measure the export only, not the pages")  # fmt: skip
    return harness.run(main_async, parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
