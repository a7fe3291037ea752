"""What the benchmarks share: databases, the real bot under load, members, figures, options."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import json
import logging
import math
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection
from telegram import Update

from bot.graph import Pace, utc_now
from bot.serve import build_runtime
from bot.settings import Settings
from domain.units import import_units
from handlers.telegram.fake import (
    TOKEN,
    FastFakeBotApi,
    button_update,
    message_update,
    text_content,
)
from handlers.telegram.processor import PerMemberUpdateProcessor
from storage.db import create_engine, current_revision, head_revision, upgrade
from storage.uow import SqlUnitOfWorkFactory

ROOT = Path(__file__).resolve().parent.parent
UNITS_CSV = ROOT / "examples" / "units.csv"
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
PHASE_TIMEOUT = 600.0
UNIT_CODE = "HN-LB-MAY10"
MEASURED_BASE = 31_000_000  # user ids of measured workers: 31000000 + i
WARMUP_BASE = 32_000_000  # user ids of warm-up workers

T = TypeVar("T")


# -- the dialog ----------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One thing a member does: type ``text``, tap the button matching prefix/suffix, or
    (on Zalo, which has no buttons) type the number of the choice whose label contains
    ``choice``."""

    text: str | None = None
    prefix: str = ""
    suffix: str = ""
    choice: str = ""

    def describe(self) -> str:
        """For error messages."""
        if self.text is not None:
            return f"text {self.text!r}"
        if self.choice:
            return f"choice {self.choice!r}"
        return f"button {self.prefix}*{self.suffix}"


def say(text_: str) -> Step:
    """Type text (a leading slash makes it a command)."""
    return Step(text=text_)


def pick(label: str) -> Step:
    """Type the number of the numbered choice whose label contains ``label``."""
    return Step(choice=label)


def tap(prefix: str, suffix: str = "") -> Step:
    """Tap the inline button whose callback data has this prefix and suffix."""
    return Step(prefix=prefix, suffix=suffix)


# Join via deep link, then one whole submission; button data is read from the bot's
# answers (draft ids are in them), never hard-coded.
DIALOG: tuple[Step, ...] = (
    say(f"/start {UNIT_CODE}"),
    tap("j:ok:"),
    tap("pv:yes"),
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

# The same dialog on Zalo, step for step: every button becomes the number of its choice,
# read from the bot's last answer.
ZALO_DIALOG: tuple[Step, ...] = (
    say(f"/start {UNIT_CODE}"),
    pick("Đúng"),
    say("đồng ý"),
    say("Nguyễn Văn An"),
    say("/skip"),
    say("/new"),
    say("Máy cắt vải tự động cho tổ cắt số 3"),
    pick("Giải pháp kỹ thuật"),
    pick("Sản xuất"),
    say("Tổ cắt phải cắt tay từng lớp vải, mỗi ca mất khoảng 2 giờ và hao hụt 5% vải."),
    pick("Xong"),
    say("Lắp bộ dẫn hướng và dao cắt tự động, một công nhân vận hành cho cả tổ."),
    pick("Xong"),
    pick("Chưa áp dụng"),
    say("Tiết kiệm 1,5 giờ mỗi ca, giảm hao hụt vải, an toàn hơn cho công nhân."),
    say("1.200.000đ"),
    pick("Không có đồng tác giả"),
    pick("Bỏ qua"),
    pick("Không"),
    pick("Gửi duyệt"),
)


class DialogError(Exception):
    """A simulated member could not take its next step."""


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
        if step.text is not None:
            content = text_content(step.text)
            return message_update(next(self.message_ids), self.user, self.chat, content)
        data = "bare:tap" if bare else api.button(self.id, step.prefix, step.suffix)
        if data is None:
            raise DialogError(
                f"member {self.id}: no {step.describe()} in the last answer "
                f"{api.buttons.get(self.id)!r}; last text: {api.last_text.get(self.id, '')!r}"
            )
        return button_update(self.user, self.chat, data)


# -- driving the bot ---------------------------------------------------------------


def bot_settings(url: str, **more: Any) -> Settings:
    """The bot's settings on a benchmark database, against a fake Telegram without limits."""
    values: dict[str, Any] = {"migrate_on_start": False} | more
    return Settings(telegram_bot_token=TOKEN, database_url=url, **values)


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

    def problems(self) -> tuple[int, int, list[str]]:
        """Errors the bot raised, notices it answered buttons with, the first of them."""
        notes = [repr(e) for e in self.errors[:3]] + self.api.notices[:3]
        return len(self.errors), len(self.api.notices), notes

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


@contextlib.asynccontextmanager
async def real_bot(
    url: str,
    api: FastFakeBotApi,
    *,
    clock: Callable[[], dt.datetime] = utc_now,
    pace: Pace | None = None,
    **settings: Any,
) -> AsyncIterator[Driver]:
    """The bot as ``python -m bot run`` builds and starts it on ``url`` (receiving
    nothing: the driver feeds its Telegram application)."""
    runtime = build_runtime(bot_settings(url, **settings), request=api, clock=clock, pace=pace)
    telegram: Any = runtime.channel("telegram")
    driver = Driver(telegram.application, api)
    try:
        await runtime.start()
        yield driver
    finally:
        await runtime.stop()


# -- databases -------------------------------------------------------------------


@contextlib.asynccontextmanager
async def connected(url: str, **engine_options: Any) -> AsyncIterator[AsyncConnection]:
    """A connection of its own to a database, for setting up and checking."""
    engine = create_engine(url, **engine_options)
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


async def admin_execute(admin_url: str, statement: str) -> None:
    """One statement outside a transaction (CREATE DATABASE, VACUUM...)."""
    options = {"isolation_level": "AUTOCOMMIT", "pool_size": 1, "max_overflow": 0}
    async with connected(admin_url, **options) as connection:
        await connection.execute(text(statement))


async def postgres_reachable(url: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        await asyncio.wait_for(admin_execute(url, "SELECT 1"), 10)
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


def database_url(postgres_url: str, name: str) -> str:
    """The URL of another database on the same PostgreSQL server."""
    return make_url(postgres_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(postgres_url: str, name: str) -> None:
    """Drop a database, whoever is still connected to it."""
    await admin_execute(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def postgres_database(postgres_url: str, name: str, *, keep: bool) -> AsyncIterator[str]:
    """A new, empty database on the server; dropped afterwards unless kept."""
    await admin_execute(postgres_url, f'CREATE DATABASE "{name}"')
    try:
        yield database_url(postgres_url, name)
    finally:
        if not keep:
            await drop_database(postgres_url, name)


async def migrate_kept(url: str) -> None:
    """A kept database made before a later migration is migrated, not made again; one
    that does not exist yet is left for its benchmark to make."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        revision = await current_revision(engine)
    except Exception:  # no such database yet
        return
    finally:
        await engine.dispose()
    if revision is not None and revision != head_revision():
        progress(f"migrating a kept database from {revision}")
        await migrate(url, units=False)


async def migrate(url: str, *, units: bool) -> None:
    """Bring the schema to the head revision; import ``examples/units.csv`` if ``units``."""
    engine = create_engine(url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        await upgrade(engine)
        if units:
            await import_units(units_of_work, UNITS_CSV.read_bytes(), dt.datetime.now(dt.UTC))
    finally:
        units_of_work.dispose()
        await engine.dispose()


@contextlib.asynccontextmanager
async def fresh_database(
    engine_name: str, postgres_url: str, *, units: bool = True
) -> AsyncIterator[str]:
    """A new, migrated database (with the example units unless told not); removed afterwards."""
    if engine_name == "sqlite":
        with tempfile.TemporaryDirectory(prefix="sangkien-bench-") as directory:
            url = f"sqlite+aiosqlite:///{directory}/bench.db"
            await migrate(url, units=units)
            yield url
        return
    name = f"sangkien_bench_{uuid.uuid4().hex[:10]}"
    async with postgres_database(postgres_url, name, keep=False) as url:
        await migrate(url, units=units)
        yield url


async def count_submitted(url: str) -> int:
    """Measured workers with a submitted (pending) initiative; each must have exactly one."""
    async with connected(url) as connection:
        counted = await connection.execute(
            text(
                "SELECT count(*), count(DISTINCT i.author_id) FROM initiatives i "
                "JOIN members m ON m.id = i.author_id "
                "WHERE i.status = 'pending' AND m.external_id LIKE :prefix"
            ),
            {"prefix": f"{str(MEASURED_BASE)[:2]}%"},
        )
        row = counted.one()
    initiatives, authors = int(row[0]), int(row[1])
    return initiatives if initiatives == authors else -initiatives


# -- figures ---------------------------------------------------------------------


def percentile_ms(seconds: Sequence[float], q: float) -> float:
    """The ``q`` percentile (nearest rank) of durations in seconds, in ms; NaN for none."""
    if not seconds:
        return math.nan
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))] * 1000


def rounded(value: float | None, digits: int = 1) -> float | None:
    """A figure for the JSON line: null where there is none."""
    if value is None or math.isnan(value):
        return None
    return round(value, digits)


@dataclass
class Timed:
    """Updates handled in ``seconds`` of wall time, with the latency of each."""

    seconds: float
    latencies: list[float]

    @property
    def updates(self) -> int:
        """Updates measured."""
        return len(self.latencies)

    @property
    def rate(self) -> float:
        """Updates finished per second."""
        return self.updates / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile in milliseconds (nearest rank)."""
        return percentile_ms(self.latencies, q)


# -- the command -------------------------------------------------------------------


def silence_logging() -> None:
    """Keep the output to the figures: the bot's own warnings and errors still show."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("httpx", "httpcore", "telegram", "apscheduler", "aiosqlite", "asyncio",
                 "alembic", "sqlalchemy"):  # fmt: skip
        logging.getLogger(name).setLevel(logging.CRITICAL)
    # The example units have no admins: every submission logs that no one can review it.
    logging.getLogger("domain.review").setLevel(logging.CRITICAL)


def progress(message: str) -> None:
    """A progress line on stderr (stdout is the figures and the JSON line)."""
    print(message, file=sys.stderr, flush=True)


def command_line(module: str, doc: str | None, quick: str) -> argparse.ArgumentParser:
    """A benchmark's parser, with the options every benchmark takes."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {module}", description=(doc or "").split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES),
        help="a PostgreSQL database to create the benchmark databases from",
    )
    parser.add_argument("--no-postgres", action="store_true", help="measure SQLite only")
    return parser


async def on_each_engine(
    args: argparse.Namespace,
    measure: Callable[[str, str], Awaitable[T]],
    what: str,
    postgres: str = "postgres",
) -> tuple[list[T], str | None]:
    """Results on SQLite, then PostgreSQL unless skipped or unreachable, and why not."""
    progress(f"sqlite: {what}")
    results = [await measure("sqlite", "")]
    note = await postgres_unavailable(args)
    if note is None:
        progress(f"{postgres}: {what}")
        results.append(await measure(postgres, args.postgres_url))
    return results, note


async def postgres_unavailable(args: argparse.Namespace) -> str | None:
    """None when PostgreSQL is to be measured, else why not (also said on stderr)."""
    if args.no_postgres:
        note: str | None = "skipped (--no-postgres)"
    else:
        note = await postgres_reachable(args.postgres_url)
    if note is not None:
        progress(f"postgres not measured: {note}")
    return note


def run(measure: Callable[[argparse.Namespace], Coroutine[Any, Any, int]], args: Any) -> int:
    """Run a benchmark with the libraries' logging quiet; its exit status."""
    silence_logging()
    return asyncio.run(measure(args))


def figures_line(out: dict[str, Any], ok: bool, failed: str) -> int:
    """Print the last line, one JSON object of figures; 0 when every check passed."""
    if not ok:
        print(f"CHECK FAILED: {failed}", file=sys.stderr)
    print(json.dumps(out, ensure_ascii=False))
    return 0 if ok else 1
