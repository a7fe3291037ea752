"""Load benchmark: simulated members join a union and submit a full initiative.

Every update goes through the real ``Application`` built by ``bot.app.build_application``
(handlers, update processor, service, SQL storage); only the Bot API is faked, at the
``BaseRequest`` boundary, with precomputed answers (``handlers.telegram.fake.FastFakeBotApi``).

Measured, per database engine (SQLite always, PostgreSQL when reachable):

* throughput - closed loop: every worker sends its next update as soon as its
  previous one is finished; updates/s and latency percentiles;
* fixed load - open loop at a fixed offered rate (200 updates/s): worker ``i`` is due
  to send its step ``k`` at ``start + (k * workers + i) / rate``.  A member's next step
  depends on the buttons of the previous answer, so a worker whose previous update is
  not finished when the next is due waits for it; latency is counted from the due
  time, so that wait (and any event-loop lag) is included.

The same workers also type the same dialog to the bot's Zalo channel, on each engine
right after the Telegram phase it compares with (throughput and fixed load, rows
``zalo`` and ``zalo_fixed``): the real poller and ``ZaloApi`` over HTTP against the fake
Zalo Bot API (``handlers.zalo.fake``, served by ``handlers.zalo.fake_lean``), which
gives one event a getUpdates call as Zalo does; every button is typed as the number of
its choice (``benchmarks.zalo``). Latency of a Zalo step = event queued at the fake to
the poller finished handling it.

On PostgreSQL, also the webhook: 1 and then 3 bot instances, each its own process
(``benchmarks.webhook``) serving ``bot.serve.serve`` on one fresh database, fed over
HTTP in the same closed loop (round-robin over the instances' ports, keep-alive);
latency is from sending the POST to reading its 200, which comes once the update is
handled.

On SQLite, also the replies beside the bulk budget (``benchmarks.dialog_budget``): the
same closed loop through the real bot with its send budget, against the fake that never
refuses and against one that refuses bulk messages beyond 30 a second; replies are no
bulk messages, so both give the same replies a second (``replies_per_s_with_budget``,
``replies_per_s_without_budget``).

And the bare framework ceiling: an ``Application`` with the same fake request and the
same update processor whose only handler answers "ok" with ``send_message``, fed the
same number of updates in the same closed loop.

Latency of one update = from putting it on ``application.update_queue`` (or from its
due time, at fixed load) to the moment the update processor finished it.

Usage: ``python -m benchmarks.dialog [--quick] [--workers N] [--postgres-url URL]
[--rate R] [--no-postgres] [--profile [telegram|zalo]]``.  Each phase gets a fresh
database (a SQLite temp file; a PostgreSQL database created from the server's ``test``
database and dropped afterwards), migrated and seeded with ``examples/units.csv``;
afterwards every measured worker must have exactly one submitted (pending) initiative,
else the exit status is 1.  The last line printed is one JSON object with the headline figures.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import io
import os
import pstats
import sys
import time
from argparse import Namespace
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from benchmarks import harness
from benchmarks.harness import (
    DIALOG,
    MEASURED_BASE,
    PHASE_TIMEOUT,
    WARMUP_BASE,
    ZALO_DIALOG,
    Driver,
    Person,
    Step,
    Timed,
    count_submitted,
    fresh_database,
    progress,
    real_bot,
    rounded,
    running,
)
from benchmarks.webhook import WebhookInstances
from benchmarks.zalo import ZaloBot
from bot.settings import Settings
from handlers.telegram.fake import TOKEN, FastFakeBotApi
from handlers.telegram.processor import PerMemberUpdateProcessor

FIXED_RATE = 200.0
QUICK_FIXED_WORKERS = 20
WEBHOOK_INSTANCES = (1, 3)


# -- feeding the bot ------------------------------------------------------


class Feed(Protocol):
    """Something that delivers a member's step to the bot and says when it was handled."""

    async def send(self, person: Person, step: Step) -> tuple[float, float]:
        """Deliver the step's update; return (start time, finish time)."""
        ...

    def problems(self) -> tuple[int, int, list[str]]:
        """Errors the bot raised, notices it answered buttons with, the first of them."""
        ...


@dataclass
class PhaseResult(Timed):
    """One measurement."""

    engine: str
    phase: str
    workers: int
    offered_rate: float | None = None
    blocked: int = 0  # fixed load: steps due before the worker's previous update finished
    submitted: int | None = None
    errors: int = 0
    notices: int = 0
    notes: list[str] = field(default_factory=list)


async def closed_loop(
    driver: Feed, people: Sequence[Person], steps: Sequence[Step]
) -> tuple[float, list[float]]:
    """All workers at once, each sending its next step as soon as the previous finished."""
    latencies: list[float] = []

    async def run(person: Person) -> None:
        for step in steps:
            put, done = await driver.send(person, step)
            latencies.append(done - put)

    start = time.perf_counter()
    await asyncio.gather(*(run(person) for person in people))
    return time.perf_counter() - start, latencies


async def open_loop(
    driver: Feed, people: Sequence[Person], steps: Sequence[Step], rate: float
) -> tuple[float, list[float], int]:
    """Updates due on a fixed schedule, ``rate`` per second spread over the workers."""
    latencies: list[float] = []
    blocked = 0
    count = len(people)
    start = time.perf_counter() + 0.05

    async def run(index: int, person: Person) -> None:
        nonlocal blocked
        previous_done = 0.0
        for k, step in enumerate(steps):
            due = start + (k * count + index) / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if previous_done > due:
                blocked += 1
            _put, done = await driver.send(person, step)
            latencies.append(done - due)
            previous_done = done

    await asyncio.gather(*(run(i, person) for i, person in enumerate(people)))
    return time.perf_counter() - start, latencies, blocked


# -- phases ----------------------------------------------------------------------


def _people(count: int, base: int) -> list[Person]:
    return [Person(base + i) for i in range(count)]


async def _measure(
    feed: Feed,
    workers: int,
    warmup: int,
    rate: float | None,
    profiler: cProfile.Profile | None = None,
    dialog: Sequence[Step] = DIALOG,
) -> tuple[float, list[float], int]:
    """Warm up, then (seconds, latencies, blocked steps) of ``workers`` whole dialogs."""
    if warmup:
        await closed_loop(feed, _people(warmup, WARMUP_BASE), dialog)
    gc.collect()
    people = _people(workers, MEASURED_BASE)
    if profiler:
        profiler.enable()
    try:
        if rate is None:
            seconds, latencies = await closed_loop(feed, people, dialog)
            return seconds, latencies, 0
        return await open_loop(feed, people, dialog, rate)
    finally:
        if profiler:
            profiler.disable()


async def _result(
    feed: Feed,
    measured: tuple[float, list[float], int],
    name: tuple[str, str, int],
    url: str | None = None,
    rate: float | None = None,
) -> PhaseResult:
    """A phase's figures: named (engine, phase, workers), its problems, its submissions."""
    seconds, latencies, blocked = measured
    errors, notices, notes = feed.problems()
    submitted = await count_submitted(url) if url else None
    return PhaseResult(seconds, latencies, *name, rate, blocked, submitted, errors, notices, notes)


async def bot_phase(
    engine_name: str,
    phase: str,
    postgres_url: str,
    workers: int,
    warmup: int,
    rate: float | None,
    profiler: cProfile.Profile | None = None,
) -> PhaseResult:
    """The real bot on a fresh database: warm up, then measure ``workers`` full dialogs."""
    async with fresh_database(engine_name, postgres_url) as url:
        async with real_bot(url, FastFakeBotApi()) as driver:
            measured = await asyncio.wait_for(
                _measure(driver, workers, warmup, rate, profiler), PHASE_TIMEOUT
            )
        return await _result(driver, measured, (engine_name, phase, workers), url, rate)


async def zalo_phase(
    engine_name: str,
    postgres_url: str,
    workers: int,
    warmup: int,
    rate: float | None,
    profiler: cProfile.Profile | None = None,
) -> PhaseResult:
    """The same dialogs typed to the bot with only its Zalo channel on, polling the fake
    Zalo Bot API over HTTP."""
    phase = "zalo" if rate is None else "zalo_fixed"
    async with fresh_database(engine_name, postgres_url) as url:
        async with ZaloBot(url) as feed:
            measured = await asyncio.wait_for(
                _measure(feed, workers, warmup, rate, profiler, ZALO_DIALOG), PHASE_TIMEOUT
            )
        return await _result(feed, measured, (engine_name, phase, workers), url, rate)


async def bare_phase(workers: int, warmup: int) -> PhaseResult:
    """The framework alone: same fake request, same processor, one handler sending "ok"."""
    api = FastFakeBotApi()
    settings = Settings(telegram_bot_token=TOKEN)
    application = (
        Application.builder()
        .token(TOKEN)
        .request(api)
        .get_updates_request(api)
        .concurrent_updates(PerMemberUpdateProcessor(settings.max_concurrent_updates))
        .build()
    )

    async def ok(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "ok")

    application.add_handler(TypeHandler(Update, ok))
    driver = Driver(application, api, bare=True)
    async with running(application, post_init=False):
        measured = await asyncio.wait_for(_measure(driver, workers, warmup, None), PHASE_TIMEOUT)
    return await _result(driver, measured, ("bare", "throughput", workers))


async def webhook_phase(
    postgres_url: str, instances: int, workers: int, warmup: int
) -> PhaseResult:
    """``instances`` bot processes serving the webhook on one fresh PostgreSQL database,
    fed over HTTP round-robin in the same closed loop; latency = POST sent to 200 read."""
    async with fresh_database("postgres", postgres_url) as url:
        feed = WebhookInstances(url, instances, connections=workers + warmup + 10)
        async with feed:
            measured = await asyncio.wait_for(_measure(feed, workers, warmup, None), PHASE_TIMEOUT)
        return await _result(feed, measured, ("postgres", f"webhook_x{instances}", workers), url)


# -- output ----------------------------------------------------------------------


def table(results: Sequence[PhaseResult]) -> str:
    """A readable table of every measurement."""
    head = (
        f"{'engine':<9}{'phase':<14}{'workers':>8}{'updates':>9}{'seconds':>9}"
        f"{'upd/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'blocked':>9}{'submitted':>10}{'errors':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(
            f"{r.engine:<9}{r.phase:<14}{r.workers:>8}{r.updates:>9}{r.seconds:>9.2f}"
            f"{r.rate:>9.1f}{r.percentile(50):>9.1f}{r.percentile(90):>9.1f}"
            f"{r.percentile(99):>9.1f}{r.percentile(100):>9.1f}"
            f"{r.blocked if r.offered_rate else '':>9}"
            f"{'' if r.submitted is None else r.submitted:>10}{r.errors + r.notices:>8}"
        )
        for note in r.notes:
            lines.append(f"    ! {note[:200]}")
    return "\n".join(lines)


def summary(
    results: Sequence[PhaseResult],
    workers: int,
    postgres_note: str | None,
    webhook_note: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """The final JSON object, and whether every check passed."""
    by = {(r.engine, r.phase): r for r in results}
    bare = by[("bare", "throughput")]
    out: dict[str, Any] = {}
    for engine in ("sqlite", "postgres"):
        throughput = by.get((engine, "throughput"))
        fixed = by.get((engine, "fixed"))
        out[f"{engine}_updates_per_s"] = rounded(throughput.rate) if throughput else None
        out[f"{engine}_p99_ms"] = rounded(fixed.percentile(99), 2) if fixed else None
    out["bare_updates_per_s"] = rounded(bare.rate)
    sqlite_tp = by[("sqlite", "throughput")]
    out["ratio_to_bare"] = round(sqlite_tp.rate / bare.rate, 3) if bare.rate else None
    out.update(zalo_figures(results))
    for count in WEBHOOK_INSTANCES:
        hook = by.get(("postgres", f"webhook_x{count}"))
        out[f"webhook_{count}_updates_per_s"] = rounded(hook.rate) if hook else None
    hook = by.get(("postgres", "webhook_x1"))
    out["webhook_p99_ms"] = rounded(hook.percentile(99), 2) if hook else None
    for engine in ("sqlite", "postgres"):
        throughput = by.get((engine, "throughput"))
        fixed = by.get((engine, "fixed"))
        out[f"{engine}_throughput_p50_ms"] = (
            rounded(throughput.percentile(50), 2) if throughput else None
        )
        out[f"{engine}_throughput_p99_ms"] = (
            rounded(throughput.percentile(99), 2) if throughput else None
        )
        out[f"{engine}_fixed_p50_ms"] = rounded(fixed.percentile(50), 2) if fixed else None
        out[f"{engine}_fixed_achieved_per_s"] = rounded(fixed.rate) if fixed else None
    out["bare_p99_ms"] = rounded(bare.percentile(99), 2)
    out["workers"] = workers
    out["steps_per_worker"] = len(DIALOG)
    out["updates"] = workers * len(DIALOG)
    fixed = by.get(("sqlite", "fixed"))
    out["fixed_rate_per_s"] = fixed.offered_rate if fixed else None
    out["fixed_workers"] = fixed.workers if fixed else None
    checked = [r for r in results if r.submitted is not None]
    wrong = [r for r in checked if r.submitted != r.workers]
    # Workers of the sqlite throughput phase whose initiative ended up submitted (pending).
    out["submitted"] = wrong[0].submitted if wrong else sqlite_tp.submitted
    out["submitted_by_phase"] = {
        f"{r.engine}_{r.phase}": f"{r.submitted}/{r.workers}" for r in checked
    }
    out["errors"] = sum(r.errors + r.notices for r in results)
    if postgres_note:
        out["postgres_unavailable"] = postgres_note[:200]
    if webhook_note:
        out["webhook_unavailable"] = webhook_note[:200]
    complete = all(r.updates == r.workers * len(DIALOG) for r in results)
    ok = not wrong and out["errors"] == 0 and complete
    out["ok"] = ok
    return out, ok


def zalo_figures(results: Sequence[PhaseResult]) -> dict[str, float | None]:
    """Zalo's figures for the JSON line: SQLite's unprefixed (the headline, as for
    Telegram), PostgreSQL's as ``zalo_postgres_*``, and each engine's Zalo rate over its
    Telegram polling rate."""
    by = {(r.engine, r.phase): r for r in results}
    out: dict[str, float | None] = {}
    for engine, prefix in (("sqlite", "zalo"), ("postgres", "zalo_postgres")):
        zalo, fixed = by.get((engine, "zalo")), by.get((engine, "zalo_fixed"))
        out[f"{prefix}_updates_per_s"] = rounded(zalo.rate) if zalo else None
        out[f"{prefix}_p99_ms"] = rounded(fixed.percentile(99), 2) if fixed else None
    for engine in ("sqlite", "postgres"):
        zalo, telegram = by.get((engine, "zalo")), by.get((engine, "throughput"))
        ratio = zalo.rate / telegram.rate if zalo and telegram and telegram.rate else None
        out[f"zalo_to_telegram_{engine}"] = None if ratio is None else round(ratio, 3)
    return out


def zalo_comparison(results: Sequence[PhaseResult]) -> str:
    """Zalo beside Telegram polling on each engine: rate, ratio, latency at fixed load."""
    by = {(r.engine, r.phase): r for r in results}
    lines = []
    for engine in ("sqlite", "postgres"):
        telegram, zalo = by.get((engine, "throughput")), by.get((engine, "zalo"))
        fixed, zalo_fixed = by.get((engine, "fixed")), by.get((engine, "zalo_fixed"))
        if not (telegram and zalo and fixed and zalo_fixed):
            continue
        lines.append(
            f"{engine}, closed loop: Zalo {zalo.rate:.1f} updates/s = "
            f"{zalo.rate / telegram.rate:.0%} of Telegram polling {telegram.rate:.1f}; "
            f"p50 / p99 ms at {fixed.offered_rate:.0f}/s offered: Zalo "
            f"{zalo_fixed.percentile(50):.1f} / {zalo_fixed.percentile(99):.1f}, Telegram "
            f"{fixed.percentile(50):.1f} / {fixed.percentile(99):.1f}"
        )
    if not lines:
        return "zalo: not measured"
    lines.append(
        "zalo: each step is an event queued at the fake Zalo Bot API (HTTP on 127.0.0.1 in "
        "this process, served by handlers.zalo.fake_lean), taken by the poller's getUpdates "
        "(one event a call, as on Zalo) and answered with sendMessage over HTTP; Telegram's "
        "steps go straight onto the application's queue and its fake answers in-process, "
        "without HTTP."
    )
    return "\n".join(lines)


def webhook_comparison(results: Sequence[PhaseResult]) -> str:
    """PostgreSQL throughput by polling (in-process queue) beside the webhook phases."""
    by = {(r.engine, r.phase): r for r in results}
    polling = by.get(("postgres", "throughput"))
    hooks = [by.get(("postgres", f"webhook_x{count}")) for count in WEBHOOK_INSTANCES]
    if polling is None or not any(hooks):
        return "webhook: not measured"
    lines = [
        "postgres, closed loop, updates/s (p50 / p99 ms): "
        f"polling {polling.rate:.1f} ({polling.percentile(50):.1f} / "
        f"{polling.percentile(99):.1f})"
        + f" [{polling.workers} workers]"
        + "".join(
            f", webhook x{count} {r.rate:.1f} "
            f"({r.percentile(50):.1f} / {r.percentile(99):.1f}) [{r.workers} workers]"
            for count, r in zip(WEBHOOK_INSTANCES, hooks, strict=True)
            if r is not None
        ),
        "webhook: each instance is its own process (python -m benchmarks.webhook) serving "
        "bot.serve.serve on its own port; the load generator POSTs round-robin over the "
        "ports itself (no proxy); latency = POST sent to 200 read, 200 coming after the "
        "update is handled; polling latency = queue put to handled (no HTTP). In a closed "
        "loop latency grows with the number of workers: compare latencies at equal workers.",
        f"caveat: this machine has {os.cpu_count()} cores, shared by the instances, the "
        "load generator and PostgreSQL, so 3 instances cannot show 3x.",
    ]
    return "\n".join(lines)


async def webhook_phases(
    postgres_url: str, workers: int, warmup: int, results: list[PhaseResult]
) -> str | None:
    """Measure the webhook with 1 and 3 instances into ``results``; a note if it failed."""
    for count in WEBHOOK_INSTANCES:
        progress(f"postgres: webhook, {count} instance(s), {workers} workers, closed loop")
        try:
            results.append(await webhook_phase(postgres_url, count, workers, warmup))
        except Exception as error:  # the other figures are still worth printing
            progress(f"webhook x{count} failed: {type(error).__name__}: {error}")
            return f"webhook x{count} failed: {type(error).__name__}: {error}"
    return None


def print_profile(profiler: cProfile.Profile, phase: str, limit: int = 40) -> None:
    """The functions with the most own time in the profiled phase.

    Only own time (tottime) is shown: SQLAlchemy's greenlet switches and coroutine
    resumptions make cProfile's cumulative times and call counts meaningless here.
    """
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.strip_dirs().sort_stats("tottime").print_stats(limit)
    print(f"\n== profile of the {phase} phase, by own time (tottime) ==")
    print(buffer.getvalue().split("\n", 6)[-1].rstrip())


# -- main ------------------------------------------------------------------------


async def engine_phases(
    engine: str, args: Namespace, workers: int, fixed_workers: int, warmup: int
) -> list[PhaseResult]:
    """Telegram and Zalo on one engine, each Zalo phase right after its Telegram twin (the
    machine's speed drifts); the profiled phase is the SQLite throughput of ``--profile``."""
    url = args.postgres_url if engine == "postgres" else ""
    rate: float = args.rate
    profiled = args.profile if engine == "sqlite" else None
    telegram = cProfile.Profile() if profiled == "telegram" else None
    zalo = cProfile.Profile() if profiled == "zalo" else None
    results = []
    progress(f"{engine}: throughput, Telegram then Zalo")
    results.append(await bot_phase(engine, "throughput", url, workers, warmup, None, telegram))
    results.append(await zalo_phase(engine, url, workers, warmup, None, zalo))
    for profiler in (telegram, zalo):
        if profiler is not None:
            print_profile(profiler, f"{engine} {profiled} throughput")
    progress(f"{engine}: fixed load {rate:.0f}/s, {fixed_workers} workers, Telegram then Zalo")
    results.append(await bot_phase(engine, "fixed", url, fixed_workers, warmup, rate))
    results.append(await zalo_phase(engine, url, fixed_workers, warmup, rate))
    if engine == "sqlite":  # replies beside the bulk budget (benchmarks.dialog_budget)
        from benchmarks.dialog_budget import budget_phases

        progress(f"{engine}: replies with and without the bulk limits, {workers} workers")
        phases, args.budget_figures = await budget_phases(engine, url, workers, warmup)
        results += phases
    return results


async def main_async(args: Namespace) -> int:
    """Run every phase, print the table and the JSON line; 0 when every check passed."""
    workers: int = args.workers
    # Quick mode: the fixed-load and webhook phases run fewer workers (a shorter schedule).
    fixed_workers = min(workers, QUICK_FIXED_WORKERS) if args.quick else workers
    warmup = min(10, max(1, workers // 10))
    results: list[PhaseResult] = []

    progress(f"bare framework: {workers} workers x {len(DIALOG)} updates, closed loop")
    results.append(await bare_phase(workers, warmup))
    results += await engine_phases("sqlite", args, workers, fixed_workers, warmup)

    postgres_note = await harness.postgres_unavailable(args)
    webhook_note: str | None = "not measured: it needs PostgreSQL"
    if postgres_note is None:
        results += await engine_phases("postgres", args, workers, fixed_workers, warmup)
        webhook_note = await webhook_phases(args.postgres_url, fixed_workers, warmup, results)

    report(results, args.rate)
    out, ok = summary(results, workers, postgres_note, webhook_note)
    out.update(args.budget_figures)
    print(
        f"ratio_to_bare = sqlite {out['sqlite_updates_per_s']} / bare "
        f"{out['bare_updates_per_s']} = {out['ratio_to_bare']}"
    )
    failed = "not every worker submitted exactly one initiative, or the bot reported errors"
    return harness.figures_line(out, ok, failed + "/notices")


def report(results: Sequence[PhaseResult], rate: float) -> None:
    """The table, what overloaded, and the webhook beside polling."""
    print()
    print(
        f"{len(DIALOG)} updates per worker (join + full submission); "
        f"fixed load = {rate:.0f} updates/s offered; latencies in ms; "
        "'blocked' = fixed-load steps due before the worker's previous update had finished"
    )
    print(table(results))
    for r in results:
        if r.offered_rate and r.rate < 0.95 * r.offered_rate:
            print(
                f"note: {r.engine} {r.phase} cannot sustain {r.offered_rate:.0f} updates/s "
                f"(achieved "
                f"{r.rate:.0f}/s): it is overloaded, so its fixed-load latency is queueing "
                "delay and grows with the length of the run"
            )
    print(zalo_comparison(results))
    print(webhook_comparison(results))


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run."""
    parser = harness.command_line(
        "benchmarks.dialog",
        __doc__,
        f"50 workers, {QUICK_FIXED_WORKERS} in the fixed-load and webhook phases",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="simulated members (default 200, 50 with --quick)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=FIXED_RATE,
        help=f"offered load of the fixed-load phase, updates/s (default {FIXED_RATE:.0f})",
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="telegram",
        choices=("telegram", "zalo"),
        help="cProfile the sqlite throughput phase of Telegram (the default) or Zalo",
    )
    args = parser.parse_args(argv)
    if args.workers is None:
        args.workers = 50 if args.quick else 200
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.rate <= 0:
        parser.error("--rate must be positive")
    return harness.run(main_async, args)


if __name__ == "__main__":
    sys.exit(main())
