"""The weekly commendations at national scale: ``python -m benchmarks.broadcast --weekly``.

Per database engine (SQLite always, PostgreSQL when reachable), on the national data set
of ``benchmarks.stats`` (``benchmarks.national``, loaded by ``benchmarks.national_load``):
100.000 units and 2.000.000 initiatives (``--quick``: 20.000 and 200.000), with members
added up to 2.000.000 (``--quick``: 200.000), cheaply (bulk inserts, spread over the
grassroots units as the data set's own members are), and then some of them changed by
their id: announcements off (1 in 17), unreachable (1 in 23), on the proxy channel
(1 in 97), erased (1 in 1.000), English (1 in 50). The week 18/09–24/09/2023, inside the
phase: the approved initiatives submitted the week before get their approval that week
(about 20.000; ``--quick``: 2.000).

Measured: the week's commendations as the bot makes them on Monday 25/09/2023 08:05
(``Commendations.run``: the plan, the admins' cards drawn, everything queued in one
transaction) in a process of its own, which says its wall time and its peak resident
memory (``VmHWM`` from /proc at its end, as ``benchmarks.web``'s export does). Checked:
every member who should hear gets exactly one commendation. The queued messages are
removed afterwards, so a kept database can be measured again.

``--keep DIR`` keeps the databases (``weekly-*.db`` in DIR; ``sangkien_weekly_*``) and
makes them from a kept ``benchmarks.stats`` database of the same size when there is one
(a copy: the stats database is not changed). Goals: under 60 s and 250 MB. JSON keys:
``weekly_members``, ``weekly_plan_seconds``, ``weekly_peak_rss_mb`` (the worst engine),
per engine ``sqlite_weekly_*`` / ``postgres_weekly_*``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import random
import re
import shutil
import subprocess
import sys
import time
from argparse import ArgumentParser, Namespace
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, text

from benchmarks import harness
from benchmarks.harness import connected, database_url, drop_database, migrate, progress
from benchmarks.national import LOAD_TIME, SEED, TELEGRAM_BASE, Tree, build_tree
from benchmarks.national_load import MEMBER_COLUMNS, Loader, Timings, _complete, generate
from storage.db import create_engine
from storage.models import UtcDateTime

ROOT = Path(__file__).resolve().parent.parent
FULL_UNITS, QUICK_UNITS = 100_000, 20_000
FULL_INITIATIVES, QUICK_INITIATIVES = 2_000_000, 200_000
FULL_MEMBERS, QUICK_MEMBERS = 2_000_000, 200_000
GOAL_SECONDS, GOAL_MB = 60.0, 250.0
CHILD_TIMEOUT_S = 900
TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# Monday 25/09/2023 08:05 in Hà Nội: the commendations of 18/09–24/09, inside phase GD2.
NOW = dt.datetime(2023, 9, 25, 8, 5, tzinfo=TIMEZONE)
WEEK_START = dt.datetime(2023, 9, 18, tzinfo=TIMEZONE)
PHASE_FIRST = dt.datetime(2022, 6, 1, 1, 0, tzinfo=dt.UTC)
PHASE_LAST = dt.datetime(2023, 9, 30, 10, 0, tzinfo=dt.UTC)
# Members changed by their id, so that the plan meets every case: (column values, modulus, rest).
CASES = (
    ("nudges = false", 17, 1),
    ("reachable = false", 23, 2),
    ("language = 'en'", 50, 3),
    ("channel = 'proxy'", 97, 5),
    ("erased_at = updated_at, channel = 'erased', nudges = false, named = false, "
     "reachable = false, full_name = NULL", 1000, 4),
)  # fmt: skip
WHO_HEARS = ("unit_id IS NOT NULL AND nudges = true AND reachable = true "
             "AND channel <> 'proxy' AND erased_at IS NULL")  # fmt: skip


# -- the data set ------------------------------------------------------------------------


async def _scalar(url: str, query: str, **params: Any) -> Any:
    async with connected(url, pool_size=1, max_overflow=0) as connection:
        return (await connection.execute(text(query), params)).scalar()


async def _ready(url: str, tree: Tree, members_total: int) -> bool:
    """Whether a kept weekly database holds this data set with its members and week."""
    try:
        if not await _complete(url, tree):
            return False
        members = await _scalar(url, "SELECT count(*) FROM members")
        # The national data set has no events: any approval is the week's.
        week = await _scalar(url, "SELECT count(*) FROM initiative_events")
    except Exception:
        return False
    return bool(members >= members_total and week)


async def _add_members(engine_name: str, url: str, tree: Tree, members_total: int) -> int:
    """Members up to ``members_total``, in grassroots units as the data set's own are."""
    first = int(await _scalar(url, "SELECT coalesce(max(id), 0) FROM members")) + 1
    missing = members_total - int(await _scalar(url, "SELECT count(*) FROM members"))
    rng = random.Random(SEED + 7)
    async with Loader(engine_name, url) as load:
        created = load.stamp(LOAD_TIME)
        for start in range(0, max(0, missing), 50_000):
            size = min(50_000, missing - start)
            where = rng.choices(tree.grassroots, weights=tree.members_of, k=size)
            await load.insert("members", MEMBER_COLUMNS, [
                (i, "telegram", str(TELEGRAM_BASE + i), "Đoàn viên", "vi", None, None, g,
                 created, created)
                for i, g in enumerate(where, start=first + start)
            ])  # fmt: skip
        for values, modulus, rest in CASES:
            await load.execute(f"UPDATE members SET {values} WHERE id % {modulus} = {rest}")
        if engine_name == "postgres":
            await load.execute("SELECT setval(pg_get_serial_sequence('members', 'id'), "
                               "(SELECT max(id) FROM members))")  # fmt: skip
        await load.commit()
    return max(0, missing)


async def _add_week(engine_name: str, url: str, tree: Tree) -> int:
    """The approvals of the week: initiatives submitted the week before, approved in it."""
    span = (PHASE_LAST - PHASE_FIRST).total_seconds()
    share = [(moment - PHASE_FIRST).total_seconds() / span
             for moment in (WEEK_START - dt.timedelta(days=7), WEEK_START)]  # fmt: skip
    low, high = (int(tree.initiatives * s) for s in share)
    async with connected(url) as connection:
        query = text("SELECT id, author_id FROM initiatives WHERE status = 'approved' "
                     "AND id > :low AND id <= :high ORDER BY id")  # fmt: skip
        rows = (await connection.execute(query, {"low": low, "high": high})).all()
    seconds = 7 * 24 * 3600 / max(1, len(rows))
    async with Loader(engine_name, url) as load:
        await load.insert(
            "initiative_events",
            ("initiative_id", "actor_id", "action", "role", "version", "at"),
            [(r.id, r.author_id, "approve", "admin", 1,
              load.stamp(WEEK_START + dt.timedelta(seconds=k * seconds)))
             for k, r in enumerate(rows)],
        )  # fmt: skip
        await load.commit()
    return len(rows)


async def _fill(engine_name: str, url: str, tree: Tree, members_total: int, fresh: bool) -> None:
    """Generate the national data set when ``fresh``, then its members and week."""
    if fresh:
        progress(f"{engine_name}: generating {len(tree.units)} units, {tree.initiatives} "
                 "initiatives")  # fmt: skip
        await generate(engine_name, url, tree, Timings())
    started = time.perf_counter()
    added = await _add_members(engine_name, url, tree, members_total)
    approvals = await _add_week(engine_name, url, tree)
    progress(f"{engine_name}: {added} members added, {approvals} approvals in the week "
             f"({time.perf_counter() - started:.1f} s)")  # fmt: skip


async def _holds(url: str, tree: Tree) -> bool:
    """Whether a copy, brought to the head migration, holds the data set."""
    await harness.migrate_kept(url)
    return await _complete(url, tree)


async def _sqlite_copy(tree: Tree, keep: Path, path: Path) -> bool:
    """A copy of the kept stats database (left as it is) at ``path``, if there is one."""
    stats = keep / f"stats-{len(tree.units)}-{tree.initiatives}.db"
    if not stats.exists():
        return False
    progress(f"sqlite: copying {stats.name}")
    for suffix in ("", "-wal"):
        if Path(f"{stats}{suffix}").exists():
            shutil.copyfile(f"{stats}{suffix}", f"{path}{suffix}")
    if await _holds(f"sqlite+aiosqlite:///{path}", tree):
        return True
    _remove(path)
    return False


async def _postgres_copy(tree: Tree, postgres_url: str, name: str) -> bool:
    """A copy of the kept stats database (left as it is) as ``name``, if there is an idle one."""
    stats = f"sangkien_stats_{len(tree.units)}_{tree.initiatives}"
    try:
        await harness.admin_execute(postgres_url, f'CREATE DATABASE "{name}" TEMPLATE "{stats}"')
    except Exception as error:  # none, or someone is connected to it: generate instead
        progress(f"postgres: no copy of {stats} ({type(error).__name__})")
        return False
    progress(f"postgres: copied {stats}")
    if await _holds(database_url(postgres_url, name), tree):
        return True
    await drop_database(postgres_url, name)
    return False


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextlib.asynccontextmanager
async def weekly_database(
    engine_name: str, postgres_url: str, tree: Tree, members_total: int, keep: Path | None
) -> AsyncIterator[str]:
    """The data set with its members and week: kept and reused with ``keep``."""
    if keep is None:
        async with harness.fresh_database(engine_name, postgres_url, units=False) as url:
            await _fill(engine_name, url, tree, members_total, fresh=True)
            yield url
        return
    size = f"{len(tree.units)}-{tree.initiatives}-{members_total}"
    if engine_name == "sqlite":
        keep.mkdir(parents=True, exist_ok=True)
        path = keep / f"weekly-{size}.db"
        url = f"sqlite+aiosqlite:///{path}"
        if path.exists():
            await harness.migrate_kept(url)
        if not await _ready(url, tree, members_total):
            _remove(path)
            copied = await _sqlite_copy(tree, keep, path)
            await migrate(url, units=False)
            await _fill(engine_name, url, tree, members_total, fresh=not copied)
        yield url
        return
    name = f"sangkien_weekly_{size.replace('-', '_')}"
    url = database_url(postgres_url, name)
    await harness.migrate_kept(url)
    if not await _ready(url, tree, members_total):
        await drop_database(postgres_url, name)
        copied = await _postgres_copy(tree, postgres_url, name)
        if not copied:
            await harness.admin_execute(postgres_url, f'CREATE DATABASE "{name}"')
        await migrate(url, units=False)
        await _fill(engine_name, url, tree, members_total, fresh=not copied)
    yield url


# -- the measurement ----------------------------------------------------------------------


# The bot's commendations in a process of its own, which says its peak resident memory at
# the end: VmHWM of its own address space, as benchmarks.web's export.
CHILD = """
import asyncio, json, sys
from benchmarks.weekly import commend_once
try:
    print(json.dumps(asyncio.run(commend_once(sys.argv[1]))))
finally:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            print("peak_rss_kb", line.split()[1], file=sys.stderr)
"""


async def commend_once(url: str) -> dict[str, Any]:
    """Make and queue the week's commendations as the bot does; its seconds and broadcasts."""
    from charts import render_card
    from domain.commend import Commendations, Schedule
    from domain.ui import Card
    from handlers.telegram import CAPABILITIES, CHANNEL
    from locales import Translator
    from storage.uow import SqlUnitOfWorkFactory

    engine = create_engine(url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    translator = Translator(TIMEZONE)

    async def draw(card: Card, language: str) -> bytes:
        return await asyncio.to_thread(render_card, card, translator, language)

    commendations = Commendations(
        units_of_work, clock=lambda: NOW, schedule=Schedule(0, dt.time(8, 0), TIMEZONE),
        draw=draw, channels={CHANNEL: CAPABILITIES},
    )  # fmt: skip
    try:
        started = time.perf_counter()
        queued = await commendations.run()
        return {"seconds": time.perf_counter() - started, "broadcasts": queued}
    finally:
        units_of_work.dispose()
        await engine.dispose()


@dataclass
class EngineResult:
    """One engine's run."""

    engine: str
    expected: int
    members: int
    duplicates: int
    seconds: float
    peak_rss_mb: float
    broadcasts: int
    status: int
    said: str

    @property
    def missed(self) -> int:
        """Members who should have heard and did not."""
        return self.expected - (self.members - self.duplicates)


THE_RUN = ("SELECT id FROM broadcasts WHERE kind IN ('weekly', 'card', 'mark') "
           "AND created_at = :now")  # fmt: skip
# As the bot stores it (SQLite keeps the UTC value as text).
AT_NOW = bindparam("now", NOW, type_=UtcDateTime())


async def _forget_run(url: str) -> None:
    """Remove what a run queued, so the week can be made again."""
    async with connected(url) as connection:
        for table, column in (("outgoing", "broadcast_id"), ("broadcasts", "id")):
            statement = f"DELETE FROM {table} WHERE {column} IN ({THE_RUN})"
            await connection.execute(text(statement).bindparams(AT_NOW))
        await connection.commit()


async def _heard(url: str) -> tuple[int, int, int]:
    """Members who should hear, commendation messages queued to members, and distinct ones."""
    async with connected(url) as connection:
        expected = (await connection.execute(
            text(f"SELECT count(*) FROM members WHERE {WHO_HEARS}"))).scalar_one()  # fmt: skip
        row = (await connection.execute(text(
            "SELECT count(*), count(DISTINCT o.member_id) FROM outgoing o "
            "JOIN broadcasts b ON b.id = o.broadcast_id "
            "WHERE b.kind = 'weekly' AND b.created_at = :now AND o.member_id IS NOT NULL"
        ).bindparams(AT_NOW))).one()  # fmt: skip
    return int(expected), int(row[0]), int(row[1])


def run_child(url: str) -> tuple[int, dict[str, Any], float, str]:
    """The commendations in a child process: exit status, its figures, peak RSS MB, output."""
    done = subprocess.run([sys.executable, "-c", CHILD, url], cwd=ROOT, capture_output=True,
                          text=True, check=False, timeout=CHILD_TIMEOUT_S)  # fmt: skip
    peak = re.search(r"peak_rss_kb (\d+)", done.stderr)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    figures = json.loads(lines[-1]) if lines else {}
    return (done.returncode, figures, int(peak.group(1)) / 1024 if peak else -1.0,
            (done.stdout + done.stderr).strip()[-400:])  # fmt: skip


async def run_engine(
    engine_name: str, postgres_url: str, tree: Tree, members_total: int, keep: Path | None
) -> EngineResult:
    """Prepare (or reuse) the data set, make the week's commendations, check who heard."""
    async with weekly_database(engine_name, postgres_url, tree, members_total, keep) as url:
        if engine_name == "sqlite":
            async with connected(url) as connection:
                await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        await _forget_run(url)
        progress(f"{engine_name}: the week's commendations, in a process of its own")
        status, figures, peak, said = await asyncio.to_thread(run_child, url)
        expected, members, distinct = await _heard(url)
        await _forget_run(url)
    return EngineResult(engine_name, expected, members, members - distinct,
                        float(figures.get("seconds", -1.0)), peak,
                        int(figures.get("broadcasts", 0)), status, said)  # fmt: skip


def _engine_figures(r: EngineResult | None, engine: str) -> dict[str, Any]:
    return {
        f"{engine}_weekly_members": r.members if r else None,
        f"{engine}_weekly_plan_seconds": harness.rounded(r.seconds, 2) if r else None,
        f"{engine}_weekly_peak_rss_mb": harness.rounded(r.peak_rss_mb) if r else None,
        f"{engine}_weekly_broadcasts": r.broadcasts if r else None,
        f"{engine}_weekly_missed": r.missed if r else None,
        f"{engine}_weekly_duplicates": r.duplicates if r else None,
    }


def add_arguments(parser: ArgumentParser) -> None:
    """``--weekly`` and ``--keep``, on ``benchmarks.broadcast``'s command line."""
    parser.add_argument(
        "--weekly",
        action="store_true",
        help="the weekly commendations for 2.000.000 members (benchmarks.weekly)",
    )
    parser.add_argument("--keep", metavar="DIR", help="--weekly: keep the databases in DIR")


async def main_async(args: Namespace) -> int:
    """Every engine: the week's commendations timed; the tables and the JSON line."""
    unit_total = QUICK_UNITS if args.quick else FULL_UNITS
    initiatives = QUICK_INITIATIVES if args.quick else FULL_INITIATIVES
    members_total = QUICK_MEMBERS if args.quick else FULL_MEMBERS
    tree = build_tree(unit_total, initiatives, random.Random(SEED))
    keep = Path(args.keep) if getattr(args, "keep", None) else None
    results, note = await harness.on_each_engine(
        args,
        lambda engine, url: run_engine(engine, url, tree, members_total, keep),
        f"weekly commendations: {len(tree.units)} units, {members_total} members",
    )
    print(f"The week's commendations (plan, cards, queue) for {members_total} members over "
          f"{len(tree.units)} units, in a process of its own")  # fmt: skip
    for r in results:
        print(f"  {r.engine}: {r.members} members commended ({r.expected} should be) in "
              f"{r.broadcasts} broadcasts, {r.seconds:.1f} s, peak RSS {r.peak_rss_mb:.0f} MB, "
              f"exit {r.status}")  # fmt: skip
        if r.status != 0:
            print(f"  ! the process said: {r.said}")
    worst = max(results, key=lambda r: r.seconds)
    by = {r.engine: r for r in results}
    out: dict[str, Any] = {
        "weekly_members": min(r.members for r in results),
        "weekly_plan_seconds": harness.rounded(worst.seconds, 2),
        "weekly_peak_rss_mb": harness.rounded(max(r.peak_rss_mb for r in results)),
        "units": len(tree.units),
    }
    for engine in ("sqlite", "postgres"):
        out.update(_engine_figures(by.get(engine), engine))
    out["goals_met"] = {
        "under_60s": all(0 <= r.seconds < GOAL_SECONDS for r in results),
        "under_250mb": all(0 <= r.peak_rss_mb < GOAL_MB for r in results),
    }
    if note:
        out["postgres_unavailable"] = note[:200]
    ok = all(r.status == 0 and r.missed == 0 and r.duplicates == 0 for r in results)
    out["ok"] = ok
    return harness.figures_line(out, ok, "the commendations failed, or a member was missed "
                                "or commended twice")  # fmt: skip
