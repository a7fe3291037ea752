"""Load benchmark: simulated members join a union and submit a full initiative.

Every update goes through the real ``Application`` built by ``bot.app.build_application``
(handlers, update processor, service, SQL storage); only the Bot API is faked, at the
``BaseRequest`` boundary, with precomputed answers (``benchmarks.fakeapi``).

Measured, per database engine (SQLite always, PostgreSQL when reachable):

* throughput - closed loop: every worker sends its next update as soon as its
  previous one is finished; updates/s and latency percentiles;
* fixed load - open loop at a fixed offered rate (200 updates/s): worker ``i`` is due
  to send its step ``k`` at ``start + (k * workers + i) / rate``.  A member's next step
  depends on the buttons of the previous answer, so a worker whose previous update is
  not finished when the next is due waits for it; latency is counted from the due
  time, so that wait (and any event-loop lag) is included.

On PostgreSQL, also the webhook: 1 and then 3 bot instances, each its own process
(``benchmarks.webhook``) serving ``bot.serve.serve`` on one fresh database, fed over
HTTP in the same closed loop (round-robin over the instances' ports, keep-alive);
latency is from sending the POST to reading its 200, which comes once the update is
handled.

And the bare framework ceiling: an ``Application`` with the same fake request and the
same update processor whose only handler answers "ok" with ``send_message``, fed the
same number of updates in the same closed loop.

Latency of one update = from putting it on ``application.update_queue`` (or from its
due time, at fixed load) to the moment the update processor finished it.

Usage: ``python -m benchmarks.dialog [--quick] [--workers N] [--postgres-url URL]
[--rate R] [--no-postgres] [--profile]``.  Each phase gets a fresh database (a SQLite
temp file; a PostgreSQL database created from the server's ``test`` database and
dropped afterwards), migrated and seeded with ``examples/units.csv``; afterwards every
measured worker must have exactly one submitted (pending) initiative, else the exit
status is 1.  The last line printed is one JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import datetime as dt
import gc
import io
import itertools
import json
import logging
import math
import os
import pstats
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.engine import make_url
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from benchmarks.fakeapi import BOT_USER, TOKEN, FastFakeBotApi
from benchmarks.webhook import WebhookInstances
from bot.app import build_application
from bot.settings import Settings
from domain.units import import_units
from handlers.telegram.processor import PerMemberUpdateProcessor
from storage.db import create_engine, upgrade
from storage.uow import SqlUnitOfWorkFactory

ROOT = Path(__file__).resolve().parent.parent
UNITS_CSV = ROOT / "examples" / "units.csv"
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
FIXED_RATE = 200.0
UNIT_CODE = "HN-LB-MAY10"
MEASURED_BASE = 31_000_000  # user ids of measured workers: 31000000 + i
WARMUP_BASE = 32_000_000  # user ids of warm-up workers
PHASE_TIMEOUT = 600.0
QUICK_FIXED_WORKERS = 20
WEBHOOK_INSTANCES = (1, 3)


# -- the dialog ----------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One thing a member does: type ``text``, or tap the button matching prefix/suffix."""

    text: str | None = None
    prefix: str = ""
    suffix: str = ""

    def describe(self) -> str:
        """For error messages."""
        return (
            f"text {self.text!r}"
            if self.text is not None
            else f"button {self.prefix}*{self.suffix}"
        )


def say(text_: str) -> Step:
    """Type text (a leading slash makes it a command)."""
    return Step(text=text_)


def tap(prefix: str, suffix: str = "") -> Step:
    """Tap the inline button whose callback data has this prefix and suffix."""
    return Step(prefix=prefix, suffix=suffix)


# Join via deep link, then one whole submission; button data is read from the bot's
# answers (draft ids are in them), never hard-coded.
DIALOG: tuple[Step, ...] = (
    say(f"/start {UNIT_CODE}"),
    tap("j:ok:"),
    say("Nguyễn Văn An"),
    say("/skip"),
    say("/new"),
    say("Máy cắt vải tự động cho tổ cắt số 3"),
    tap("d:pick:", ":kind:technical"),
    tap("d:pick:", ":field:production"),
    say("Tổ cắt phải cắt tay từng lớp vải, mỗi ca mất khoảng 2 giờ và hao hụt 5% vải."),
    tap("d:done:", ":problem"),
    say("Lắp bộ dẫn hướng và dao cắt tự động, một công nhân vận hành cho cả tổ."),
    tap("d:done:", ":solution"),
    tap("d:pick:", ":applied:no"),
    say("Tiết kiệm 1,5 giờ mỗi ca, giảm hao hụt vải, an toàn hơn cho công nhân."),
    say("1.200.000đ"),
    tap("d:done:", ":coauthors"),
    tap("d:done:", ":files"),
    tap("d:pick:", ":secret:no"),
    tap("d:submit:", ":summary"),
)


class DialogError(Exception):
    """A simulated member could not take its next step."""


_update_ids = itertools.count(1)


class Person:
    """A simulated member in a private chat, who builds update JSON."""

    __slots__ = ("chat", "id", "message_ids", "user")

    def __init__(self, user_id: int) -> None:
        self.id = user_id
        self.user = {
            "id": user_id,
            "is_bot": False,
            "first_name": "An",
            "last_name": "Nguyễn",
            "language_code": "vi",
        }
        self.chat = {"id": user_id, "type": "private", "first_name": "An"}
        self.message_ids = itertools.count(1)

    def update(self, step: Step, api: FastFakeBotApi, bare: bool) -> dict[str, Any]:
        """The update for ``step``, using the buttons the bot last sent to this chat."""
        now = int(time.time())
        if step.text is not None:
            message: dict[str, Any] = {
                "message_id": next(self.message_ids),
                "date": now,
                "chat": self.chat,
                "from": self.user,
                "text": step.text,
            }
            if step.text.startswith("/"):
                length = len(step.text.split(" ", 1)[0])
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
            return {"update_id": next(_update_ids), "message": message}
        data = "bare:tap" if bare else api.button(self.id, step.prefix, step.suffix)
        if data is None:
            raise DialogError(
                f"member {self.id}: no {step.describe()} in the last answer "
                f"{api.buttons.get(self.id)!r}; last text: {api.last_text.get(self.id, '')!r}"
            )
        update_id = next(_update_ids)
        return {
            "update_id": update_id,
            "callback_query": {
                "id": str(update_id),
                "from": self.user,
                "chat_instance": f"ci{self.id}",
                "data": data,
                "message": {
                    "message_id": 1,
                    "date": now,
                    "chat": self.chat,
                    "from": BOT_USER,
                    "text": "…",
                },
            },
        }


# -- driving an application ------------------------------------------------------


class Feed(Protocol):
    """Something that delivers a member's step to the bot and says when it was handled."""

    async def send(self, person: Person, step: Step) -> tuple[float, float]:
        """Deliver the step's update; return (start time, finish time)."""
        ...


class Driver:
    """Feeds updates into an Application and tells when the update processor finished each."""

    def __init__(self, application: Any, api: FastFakeBotApi, *, bare: bool = False) -> None:
        self.application = application
        self.api = api
        self.bare = bare
        self.errors: list[BaseException | None] = []
        self.updates = 0
        self._finished: dict[int, asyncio.Future[float]] = {}
        processor = application.update_processor
        assert isinstance(processor, PerMemberUpdateProcessor), type(processor)
        inner = processor.do_process_update

        # Wrap the real processor's do_process_update on the instance: the member lock,
        # the semaphore and the ``handled`` count stay the production ones.
        async def timed(update: object, coroutine: Awaitable[Any]) -> None:
            try:
                await inner(update, coroutine)
            finally:
                done = time.perf_counter()
                waiter = self._finished.pop(getattr(update, "update_id", -1), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(done)

        processor.do_process_update = timed  # type: ignore[method-assign]

        async def collect(update: object, context: Any) -> None:
            self.errors.append(context.error)

        application.add_error_handler(collect)

    async def send(self, person: Person, step: Step) -> tuple[float, float]:
        """Put the step's update on the queue; return (put time, finish time)."""
        data = person.update(step, self.api, self.bare)
        self.api.expect(person.id)  # only the answer to this update counts for the next step
        update = Update.de_json(data, self.application.bot)
        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._finished[update.update_id] = waiter
        self.updates += 1
        put = time.perf_counter()
        await self.application.update_queue.put(update)
        return put, await waiter


@dataclass
class PhaseResult:
    """One measurement."""

    engine: str
    phase: str
    workers: int
    updates: int
    seconds: float
    latencies: list[float]
    offered_rate: float | None = None
    blocked: int = 0  # fixed load: steps due before the worker's previous update finished
    submitted: int | None = None
    errors: int = 0
    notices: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Updates finished per second."""
        return self.updates / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile in milliseconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
        return ordered[index] * 1000


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


# -- databases -------------------------------------------------------------------


async def _admin_execute(admin_url: str, statement: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def fresh_database(engine_name: str, postgres_url: str) -> AsyncIterator[str]:
    """A new, migrated database with the example units imported; removed afterwards."""
    if engine_name == "sqlite":
        with tempfile.TemporaryDirectory(prefix="sangkien-bench-") as directory:
            url = f"sqlite+aiosqlite:///{directory}/bench.db"
            await _prepare(url)
            yield url
        return
    name = f"sangkien_bench_{uuid.uuid4().hex[:10]}"
    await _admin_execute(postgres_url, f'CREATE DATABASE "{name}"')
    try:
        url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        await _prepare(url)
        yield url
    finally:
        await _admin_execute(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _prepare(url: str) -> None:
    engine = create_engine(url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        await upgrade(engine)
        await import_units(units_of_work, UNITS_CSV.read_bytes(), dt.datetime.now(dt.UTC))
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def count_submitted(url: str) -> int:
    """Measured workers with a submitted (pending) initiative; each must have exactly one."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    text(
                        "SELECT count(*), count(DISTINCT i.author_id) FROM initiatives i "
                        "JOIN members m ON m.id = i.author_id "
                        "WHERE i.status = 'pending' AND m.external_id LIKE :prefix"
                    ),
                    {"prefix": f"{str(MEASURED_BASE)[:2]}%"},
                )
            ).one()
    finally:
        await engine.dispose()
    initiatives, authors = int(row[0]), int(row[1])
    return initiatives if initiatives == authors else -initiatives


async def postgres_reachable(url: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        await asyncio.wait_for(_admin_execute(url, "SELECT 1"), 10)
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


# -- phases ----------------------------------------------------------------------


@contextlib.asynccontextmanager
async def running(application: Any, *, post_init: bool) -> AsyncIterator[None]:
    """initialize, post_init, start ... stop, shutdown, post_shutdown, as run_polling would."""
    await application.initialize()
    try:
        if post_init and application.post_init:
            await application.post_init(application)
        await application.start()
        yield
    finally:
        if application.running:
            await application.stop()
            if application.post_stop:
                await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)


def _people(count: int, base: int) -> list[Person]:
    return [Person(base + i) for i in range(count)]


async def _measure(
    driver: Feed,
    workers: int,
    warmup: int,
    rate: float | None,
    profiler: cProfile.Profile | None = None,
) -> tuple[float, list[float], int]:
    if warmup:
        await closed_loop(driver, _people(warmup, WARMUP_BASE), DIALOG)
    gc.collect()
    if profiler:
        profiler.enable()
    try:
        if rate is None:
            seconds, latencies = await closed_loop(driver, _people(workers, MEASURED_BASE), DIALOG)
            return seconds, latencies, 0
        return await open_loop(driver, _people(workers, MEASURED_BASE), DIALOG, rate)
    finally:
        if profiler:
            profiler.disable()


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
        settings = Settings(
            telegram_bot_token=TOKEN, database_url=url, migrate_on_start=False, limit_replies=False
        )
        api = FastFakeBotApi()
        application = build_application(settings, request=api)
        driver = Driver(application, api)
        async with running(application, post_init=True):
            notices_before = len(api.notices)
            seconds, latencies, blocked = await asyncio.wait_for(
                _measure(driver, workers, warmup, rate, profiler), PHASE_TIMEOUT
            )
        submitted = await count_submitted(url)
    return PhaseResult(
        engine=engine_name,
        phase=phase,
        workers=workers,
        updates=len(latencies),
        seconds=seconds,
        latencies=latencies,
        offered_rate=rate,
        blocked=blocked,
        submitted=submitted,
        errors=len(driver.errors),
        notices=len(api.notices) - notices_before,
        notes=[repr(e) for e in driver.errors[:3]] + api.notices[:3],
    )


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
        seconds, latencies, _blocked = await asyncio.wait_for(
            _measure(driver, workers, warmup, None), PHASE_TIMEOUT
        )
    return PhaseResult(
        "bare", "throughput", workers, len(latencies), seconds, latencies, errors=len(driver.errors)
    )


async def webhook_phase(
    postgres_url: str, instances: int, workers: int, warmup: int
) -> PhaseResult:
    """``instances`` bot processes serving the webhook on one fresh PostgreSQL database,
    fed over HTTP round-robin in the same closed loop; latency = POST sent to 200 read."""
    async with fresh_database("postgres", postgres_url) as url:
        feed = WebhookInstances(url, instances, connections=workers + warmup + 10)
        async with feed:
            seconds, latencies, _blocked = await asyncio.wait_for(
                _measure(feed, workers, warmup, None), PHASE_TIMEOUT
            )
        submitted = await count_submitted(url)
    return PhaseResult(
        engine="postgres",
        phase=f"webhook_x{instances}",
        workers=workers,
        updates=len(latencies),
        seconds=seconds,
        latencies=latencies,
        submitted=submitted,
        errors=feed.errors,
        notices=feed.notices,
        notes=feed.notes[:3],
    )


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


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


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
        out[f"{engine}_updates_per_s"] = _round(throughput.rate) if throughput else None
        out[f"{engine}_p99_ms"] = _round(fixed.percentile(99), 2) if fixed else None
    out["bare_updates_per_s"] = _round(bare.rate)
    sqlite_tp = by[("sqlite", "throughput")]
    out["ratio_to_bare"] = round(sqlite_tp.rate / bare.rate, 3) if bare.rate else None
    for count in WEBHOOK_INSTANCES:
        hook = by.get(("postgres", f"webhook_x{count}"))
        out[f"webhook_{count}_updates_per_s"] = _round(hook.rate) if hook else None
    hook = by.get(("postgres", "webhook_x1"))
    out["webhook_p99_ms"] = _round(hook.percentile(99), 2) if hook else None
    for engine in ("sqlite", "postgres"):
        throughput = by.get((engine, "throughput"))
        fixed = by.get((engine, "fixed"))
        out[f"{engine}_throughput_p50_ms"] = (
            _round(throughput.percentile(50), 2) if throughput else None
        )
        out[f"{engine}_throughput_p99_ms"] = (
            _round(throughput.percentile(99), 2) if throughput else None
        )
        out[f"{engine}_fixed_p50_ms"] = _round(fixed.percentile(50), 2) if fixed else None
        out[f"{engine}_fixed_achieved_per_s"] = _round(fixed.rate) if fixed else None
    out["bare_p99_ms"] = _round(bare.percentile(99), 2)
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
        "load generator and PostgreSQL, so 3 instances cannot show 3x; and each process "
        "has its own 30 messages/s send budget (handlers.telegram.budget), so N instances may send "
        "N x 30 replies a second where one bot is allowed 30.",
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


def print_profile(profiler: cProfile.Profile, limit: int = 40) -> None:
    """The functions with the most own time in the profiled phase.

    Only own time (tottime) is shown: SQLAlchemy's greenlet switches and coroutine
    resumptions make cProfile's cumulative times and call counts meaningless here.
    """
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.strip_dirs().sort_stats("tottime").print_stats(limit)
    print("\n== profile of the sqlite throughput phase, by own time (tottime) ==")
    print(buffer.getvalue().split("\n", 6)[-1].rstrip())


# -- main ------------------------------------------------------------------------


def silence_logging() -> None:
    """Keep the output to the table: the bot's own warnings and errors still show."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in (
        "httpx",
        "httpcore",
        "telegram",
        "apscheduler",
        "aiosqlite",
        "asyncio",
        "alembic",
        "sqlalchemy",
    ):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    # The example units have no admins: every submission logs that no one can review it.
    logging.getLogger("domain.review").setLevel(logging.CRITICAL)


def progress(message: str) -> None:
    """A progress line on stderr (stdout is the table and the JSON line)."""
    print(message, file=sys.stderr, flush=True)


async def main_async(args: argparse.Namespace) -> int:
    """Run every phase, print the table and the JSON line; 0 when every check passed."""
    workers: int = args.workers
    # Quick mode: the fixed-load phase runs fewer workers (a shorter schedule).
    fixed_workers = min(workers, QUICK_FIXED_WORKERS) if args.quick else workers
    # ... and so do the webhook phases.
    webhook_workers = fixed_workers
    rate: float = args.rate
    warmup = min(10, max(1, workers // 10))
    results: list[PhaseResult] = []
    profiler = cProfile.Profile() if args.profile else None

    progress(f"bare framework: {workers} workers x {len(DIALOG)} updates, closed loop")
    results.append(await bare_phase(workers, warmup))
    progress("sqlite: throughput")
    results.append(await bot_phase("sqlite", "throughput", "", workers, warmup, None, profiler))
    progress(f"sqlite: fixed load {rate:.0f}/s, {fixed_workers} workers")
    results.append(await bot_phase("sqlite", "fixed", "", fixed_workers, warmup, rate))

    postgres_note: str | None = None
    if args.no_postgres:
        postgres_note = "skipped (--no-postgres)"
    else:
        postgres_note = await postgres_reachable(args.postgres_url)
    if postgres_note is None:
        progress("postgres: throughput")
        results.append(
            await bot_phase("postgres", "throughput", args.postgres_url, workers, warmup, None)
        )
        progress(f"postgres: fixed load {rate:.0f}/s, {fixed_workers} workers")
        results.append(
            await bot_phase("postgres", "fixed", args.postgres_url, fixed_workers, warmup, rate)
        )
        webhook_note = await webhook_phases(args.postgres_url, webhook_workers, warmup, results)
    else:
        progress(f"postgres not measured: {postgres_note}")
        webhook_note = "not measured: it needs PostgreSQL"

    if profiler:
        print_profile(profiler)
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
                f"note: {r.engine} cannot sustain {r.offered_rate:.0f} updates/s (achieved "
                f"{r.rate:.0f}/s): it is overloaded, so its fixed-load latency is queueing "
                "delay and grows with the length of the run"
            )
    print(webhook_comparison(results))
    out, ok = summary(results, workers, postgres_note, webhook_note)
    bare = out["bare_updates_per_s"]
    print(
        f"ratio_to_bare = sqlite {out['sqlite_updates_per_s']} / bare {bare} "
        f"= {out['ratio_to_bare']}"
    )
    if not ok:
        print(
            "CHECK FAILED: not every worker submitted exactly one initiative, "
            "or the bot reported errors/notices",
            file=sys.stderr,
        )
    print(json.dumps(out, ensure_ascii=False))
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.dialog", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"50 workers, {QUICK_FIXED_WORKERS} in the fixed-load and webhook phases",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="simulated members (default 200, 50 with --quick)"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES),
        help="a PostgreSQL database to create the benchmark databases from",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=FIXED_RATE,
        help=f"offered load of the fixed-load phase, updates/s (default {FIXED_RATE:.0f})",
    )
    parser.add_argument("--no-postgres", action="store_true", help="measure SQLite only")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the sqlite throughput phase"
    )
    args = parser.parse_args(argv)
    if args.workers is None:
        args.workers = 50 if args.quick else 200
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.rate <= 0:
        parser.error("--rate must be positive")
    silence_logging()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
