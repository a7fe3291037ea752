"""Fixtures: a clean database per test on SQLite and PostgreSQL, and a running bot."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.serve import build_runtime
from bot.settings import Settings
from domain.units import import_units
from storage.db import create_engine, upgrade
from storage.models import Base
from storage.uow import SqlUnitOfWorkFactory
from tests.fakebotapi import TOKEN, FakeBotApi, Harness
from tests.zalo_world import Worker, zalo_worker

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_UNITS = ROOT / "examples" / "units.csv"
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
T = TypeVar("T")


def run_in_thread(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on its own loop in another thread, leaving the test loop alone."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    run_in_thread(lambda: _migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, migrated; dropped at the end."""
    admin_url = os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES)
    name = f"sangkien_test_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            await engine.dispose()

    try:
        run_in_thread(create)
    except Exception as error:
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL at {admin_url} is required but not usable: {error}")
        pytest.skip(f"PostgreSQL not reachable at {admin_url}: {error}")
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    run_in_thread(lambda: _migrate(url))
    yield url

    async def drop() -> None:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            await engine.dispose()

    run_in_thread(drop)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean, migrated database for one test, on each engine."""
    if request.param == "sqlite":
        path = tmp_path / "bot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)

    async def truncate() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        finally:
            await engine.dispose()

    run_in_thread(truncate)
    return url


async def seed_units(database_url: str, path: Path = EXAMPLE_UNITS) -> None:
    """Import the example unit tree."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        await import_units(units_of_work, path.read_bytes(), dt.datetime.now(dt.UTC))
    finally:
        units_of_work.dispose()
        await engine.dispose()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
async def units_of_work(database_url: str) -> AsyncIterator[SqlUnitOfWorkFactory]:
    """The example unit tree in a clean database, and units of work on it: for use cases
    called without a bot."""
    await seed_units(database_url)
    engine = create_engine(database_url)
    factory = SqlUnitOfWorkFactory(engine)
    try:
        yield factory
    finally:
        factory.dispose()
        await engine.dispose()


@pytest.fixture
def clock() -> Clock:
    """22/11/2026 09:00 in Hà Nội."""
    return Clock(dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC))


StartBot = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def start_bot(database_url: str, clock: Clock) -> AsyncIterator[StartBot]:
    """Start real Applications on the test database; each call is a fresh process."""
    running: list[Harness] = []

    async def start(api: FakeBotApi | None = None, **changes: Any) -> Harness:
        # A short job lease: a test that kills a process waits little for the next.
        changes.setdefault("job_lease_seconds", 1.5)
        settings = Settings(telegram_bot_token=TOKEN, database_url=database_url,
                            migrate_on_start=False, **changes)  # fmt: skip
        api = api or FakeBotApi()
        runtime = build_runtime(settings, request=api, clock=clock)
        harness = Harness(runtime, api)
        # As `python -m bot run` starts it, but receiving nothing: tests put the updates.
        await runtime.start()
        running.append(harness)
        return harness

    yield start
    errors: list[BaseException] = []
    for harness in running:
        await stop(harness)
        errors += harness.errors
    assert not errors, f"handlers raised: {errors!r}"


async def stop(harness: Harness) -> None:
    """Stop a bot as a shutdown would."""
    await harness.runtime.stop()


@pytest.fixture
async def zalo(start_bot: StartBot, database_url: str) -> AsyncIterator[Worker]:
    """The bot with its Zalo channel on, against a fake Zalo Bot API, and a Zalo worker;
    the example unit tree imported."""
    await seed_units(database_url)
    async with zalo_worker(start_bot) as worker:
        yield worker


@pytest.fixture
async def bot(start_bot: StartBot, database_url: str) -> Harness:
    """A running bot with the example unit tree imported."""
    await seed_units(database_url)
    return await start_bot()
