"""Engines and schema migrations for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS = Path(__file__).parent / "migrations"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys."""
    parsed = make_url(url)
    # A database error's message would otherwise carry the row's values: what members wrote.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
        return create_async_engine(url, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # SQLite has one writer at a time: one connection serialises transactions in the
    # process instead of letting two deferred transactions deadlock on "database is locked".
    kwargs.setdefault("pool_size", 1)
    kwargs.setdefault("max_overflow", 0)
    engine = create_async_engine(url, **kwargs)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL with synchronous=NORMAL survives a crash of the process; only a power loss
    # can take back the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def inline_sqlite_engine(engine: AsyncEngine) -> Engine | None:
    """For a SQLite engine, a synchronous one on the same file (see storage.executor)."""
    url = engine.url
    if url.get_backend_name() != "sqlite":
        return None
    inline = create_sync_engine(
        url.set(drivername="sqlite"),
        pool_size=1,
        max_overflow=0,
        pool_timeout=0,
        hide_parameters=True,
    )
    event.listen(inline, "connect", _sqlite_pragmas)
    return inline


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit, one per task."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str = "") -> Config:
    """An Alembic configuration pointing at our migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    """The newest migration the code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_revision(revision: str) -> bool:
    """Whether the code has this migration (else a newer version made it)."""
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


# Taken by whoever upgrades a PostgreSQL schema: instances starting together upgrade once.
MIGRATION_LOCK = 0x5A4E_0001


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                     {"key": MIGRATION_LOCK})  # fmt: skip
        await connection.run_sync(run)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The migration the database is at, or None for an empty database."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)


def error_causes(error: BaseException) -> Iterator[BaseException]:
    """The error and the ones it was raised from, outermost first: what a driver says
    lies a few causes deep in what SQLAlchemy or the Bot API client raises."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def sqlite_lock_path(url: str) -> Path | None:
    """The lock file beside a SQLite database, held by the process running on it; None
    for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    return Path(f"{database}.lock")


async def after_bulk_load(connection: AsyncConnection) -> None:
    """Bring what an engine derives from the tables up to date after rows were loaded in
    bulk (``storage.copying``), in the load's transaction."""
    if connection.dialect.name == "postgresql":
        # Without statistics the planner guesses a freshly loaded table is small until
        # autovacuum's next round; the first pages after a move would pay for it.
        await connection.execute(text("ANALYZE"))
    # SQLite: nothing. Its planner runs without statistics on purpose (the indexes of
    # storage.models are laid out for that), and a search index a migration fills by
    # triggers (FTS5) is filled as the rows go in; one that needs a rebuild goes here.
