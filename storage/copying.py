"""The whole database copied to another one, SQLite to PostgreSQL or back
(``python -m bot db copy``): checked first, copied in one transaction with every id kept,
then verified table by table.

Refusals come before anything is written, each as one sentence for the operator: the
source in use by a bot or behind the code's schema; the target unreachable, the source
itself, not empty, or at another schema revision. An empty target is migrated first, so
its own migrations make what is not data (search indexes, triggers, extensions).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table, bindparam, cast, func, insert, inspect, select, text, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.types import Integer, Text, TypeDecorator

from storage.db import (
    after_bulk_load,
    create_engine,
    current_revision,
    error_causes,
    head_revision,
    sqlite_lock_path,
    upgrade,
)
from storage.models import LeaseRow
from storage.table_rows import (
    Checksum,
    copied_tables,
    count_rows,
    is_json,
    pages,
    prefetched,
    table_checksum,
)

Progress = Callable[[str, int, int], None]
DRIVERS = ("postgresql+asyncpg", "sqlite+aiosqlite")
# Seconds to wait for a PostgreSQL server to answer before calling it unreachable.
CONNECT_TIMEOUT = 10
_JSON_PARAM = "copy_json_"
# Taken by a copy writing into a PostgreSQL database, for its whole transaction.
COPY_LOCK = 0x5A4E_0002


class CopyRefused(Exception):
    """The copy cannot be made; ``message`` tells the operator why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class TableCheck:
    """One table on both sides: its rows counted and summed."""

    name: str
    source_rows: int
    target_rows: int
    source_checksum: str
    target_checksum: str

    @property
    def ok(self) -> bool:
        """Whether both sides hold the same rows."""
        return (self.source_rows, self.source_checksum) == (self.target_rows, self.target_checksum)


@dataclass
class CopyReport:
    """What was copied and how each table compares."""

    tables: list[TableCheck]
    revision: str | None = None
    seconds: float = 0.0

    @property
    def mismatches(self) -> int:
        """Tables whose rows differ between source and target."""
        return sum(1 for table in self.tables if not table.ok)

    @property
    def rows(self) -> int:
        """Rows in the source."""
        return sum(table.source_rows for table in self.tables)


async def copy_database(
    source_url: str,
    target_url: str,
    *,
    batch_rows: int = 5_000,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy every table of the source into the empty target, keeping ids; verify it."""
    started = time.perf_counter()
    source_at, target_at = _parsed(source_url, "source"), _parsed(target_url, "target")
    if source_at.drivername == DRIVERS[1] and not Path(source_at.database or "").is_file():
        raise CopyRefused(f"The source SQLite file {source_at.database} does not exist: check "
                          "DATABASE_URL (or --database-url).")  # fmt: skip
    if _same_database(source_at, target_at):
        raise CopyRefused(f"The target {_shown(target_at)} is the source database itself: "
                          "give --to another, empty database.")  # fmt: skip
    with _locked(source_at, "source"), _locked(target_at, "target"):
        async with _engine(source_at, "source") as source, _engine(target_at, "target") as target:
            revision = await _check_source(source, source_at)
            await _prepare_target(target, target_at, revision)
            sums = await _copy(source, target, max(1, batch_rows), progress)
            report = await _verify_target(target, sums, max(1, batch_rows), progress)
    report.revision = revision
    report.seconds = time.perf_counter() - started
    return report


async def verify_database(
    source_url: str, target_url: str, *, batch_rows: int = 5_000, progress: Progress | None = None
) -> CopyReport:
    """Count and sum every table on both sides (after a copy, or any time later)."""
    source_at, target_at = _parsed(source_url, "source"), _parsed(target_url, "target")
    async with _engine(source_at, "source") as source, _engine(target_at, "target") as target:
        sums: dict[str, Checksum] = {}
        async with source.connect() as connection:
            for table in copied_tables():
                sums[table.name] = await _summed(connection, table, batch_rows, progress)
        return await _verify_target(target, sums, batch_rows, progress)


# -- where from, where to ------------------------------------------------------------------


def _parsed(url: str, role: str) -> URL:
    """The URL, if it is one for an engine the bot runs on."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        parsed = None
    if parsed is None or parsed.drivername not in DRIVERS:
        raise CopyRefused(
            f"The {role} {url.split('@')[-1]!r} is not a database URL the bot runs on: write "
            "postgresql+asyncpg://USER:PASSWORD@HOST:5432/DATABASE or sqlite+aiosqlite:///PATH."
        )
    if parsed.drivername == DRIVERS[1] and (parsed.database or ":memory:") == ":memory:":
        raise CopyRefused(f"The {role} must be a SQLite file (sqlite+aiosqlite:///PATH), "
                          "not an in-memory database.")  # fmt: skip
    return parsed


def _shown(url: URL) -> str:
    """The URL as the operator may see it: without its password."""
    return url.render_as_string(hide_password=True)


def _same_database(one: URL, other: URL) -> bool:
    """Whether two URLs lead to the same database."""
    if one.get_backend_name() != other.get_backend_name():
        return False
    if one.get_backend_name() == "sqlite":
        return Path(one.database or "").resolve() == Path(other.database or "").resolve()
    where = [(u.host or "localhost", u.port or 5432, u.database) for u in (one, other)]
    return where[0] == where[1]


@contextlib.contextmanager
def _locked(url: URL, role: str) -> Iterator[None]:
    """Hold a SQLite file's instance lock (bot.preflight takes the same one at start):
    refused while a bot runs on it, and no bot starts on it until the copy is over."""
    path = sqlite_lock_path(url.render_as_string(hide_password=False))
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CopyRefused(f"A bot is running on the {role} database ({path}); stop it "
                              "first.") from None  # fmt: skip
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.asynccontextmanager
async def _engine(url: URL, role: str) -> AsyncIterator[AsyncEngine]:
    """An engine of the project's (SQLite pragmas included), closed afterwards."""
    options: dict[str, Any] = {"pool_size": 1, "max_overflow": 0}
    if url.get_backend_name() == "postgresql":
        options["connect_args"] = {"timeout": CONNECT_TIMEOUT}
    try:
        engine = create_engine(url.render_as_string(hide_password=False), **options)
    except (NoSuchModuleError, OSError) as error:
        raise CopyRefused(_unreachable(error, url, role)) from error
    try:
        yield engine
    finally:
        await engine.dispose()


async def _revision(engine: AsyncEngine, url: URL, role: str) -> tuple[str | None, list[str]]:
    """The database's schema revision and its tables; refused when it cannot be reached."""

    def read(connection: Any) -> list[str]:
        return list(inspect(connection).get_table_names())

    try:
        revision = await current_revision(engine)
        async with engine.connect() as connection:
            tables = await connection.run_sync(read)
    except (OSError, TimeoutError, SQLAlchemyError) as error:
        raise CopyRefused(_unreachable(error, url, role)) from error
    return revision, tables


def _unreachable(error: BaseException, url: URL, role: str) -> str:
    """Why the database cannot be opened, in a sentence."""
    causes = list(error_causes(error))
    states = {getattr(cause, "sqlstate", None) for cause in causes}
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    if url.get_backend_name() == "sqlite":
        reason = next((str(c) for c in causes if isinstance(c, OSError)), str(causes[-1]))
        return f"Cannot open the {role} SQLite file {url.database}: {reason}."
    if "3D000" in states:
        return (f"The {role} database {url.database!r} does not exist on {where}: create it "
                f"first (createdb {url.database}), empty.")  # fmt: skip
    if states & {"28P01", "28000"}:
        return (f"PostgreSQL at {where} refused the user {url.username!r} for the {role} "
                "(a wrong password, or pg_hba.conf does not let it in).")  # fmt: skip
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
        return (f"Cannot reach the {role} database at {where}: the connection was refused "
                "(is PostgreSQL running there, on that port?).")  # fmt: skip
    if any(isinstance(cause, TimeoutError) for cause in causes):
        return (f"Cannot reach the {role} database at {where}: no answer in "
                f"{CONNECT_TIMEOUT} seconds.")  # fmt: skip
    if any(type(cause).__name__ == "gaierror" for cause in causes):
        return f"Cannot reach the {role} database: the name {url.host!r} does not resolve."
    return f"Cannot open the {role} database at {where}: {type(causes[-1]).__name__}."


# -- the checks before anything is written --------------------------------------------------


async def _check_source(source: AsyncEngine, url: URL) -> str | None:
    """The source's revision, once it is at the code's and no bot runs on it."""
    revision, _tables = await _revision(source, url, "source")
    head = head_revision()
    if revision is None:
        raise CopyRefused(f"The source {_shown(url)} has no schema: there is nothing to copy "
                          "(is DATABASE_URL the bot's database?).")  # fmt: skip
    if revision != head:
        raise CopyRefused(f"The source database is at revision {revision}, this version of the "
                          f"bot at {head}: run python -m bot db upgrade first.")  # fmt: skip
    if source.dialect.name == "postgresql":
        await _refuse_running(source)
    return revision


async def _refuse_running(source: AsyncEngine) -> None:
    """PostgreSQL has no lock file: a running bot shows by the leases it keeps renewing
    (each process marks itself alive there; bot.duty)."""
    leases = LeaseRow.__table__
    now = dt.datetime.now(dt.UTC)
    async with source.connect() as connection:
        until = (await connection.execute(
            select(func.max(leases.c.expires_at)).where(leases.c.expires_at > now)
        )).scalar()  # fmt: skip
    if until is not None:
        raise CopyRefused(
            f"A bot is running on the source database (its lease runs until {until:%H:%M:%S} "
            "UTC); stop every process first. One stopped a moment ago still shows until its "
            "lease lapses (JOB_LEASE_SECONDS, 30 by default): try again then."
        )


async def _prepare_target(target: AsyncEngine, url: URL, revision: str | None) -> None:
    """Migrate an empty target; refuse one holding anything or at another revision."""
    at, tables = await _revision(target, url, "target")
    if at is None and tables:
        shown = ", ".join(sorted(tables)[:5])
        raise CopyRefused(f"The target {_shown(url)} has tables ({shown}) but not the bot's "
                          "schema: give an empty database.")  # fmt: skip
    if at is None:
        await upgrade(target)
        return
    if at != revision:
        raise CopyRefused(f"The target database is at revision {at}, the source at "
                          f"{revision}: give an empty database (the copy migrates "
                          "it).")  # fmt: skip
    async with target.connect() as connection:
        filled = [(t.name, n) for t in copied_tables() if (n := await count_rows(connection, t))]
    if filled:
        held = ", ".join(f"{n} {'row' if n == 1 else 'rows'} in {name}" for name, n in filled[:6])
        more = f" and {len(filled) - 6} more tables" if len(filled) > 6 else ""
        raise CopyRefused(f"The target database is not empty: it has {held}{more}. Copy into "
                          "an empty database; nothing was written.")  # fmt: skip


# -- the copy ---------------------------------------------------------------------------------


async def _copy(
    source: AsyncEngine, target: AsyncEngine, size: int, progress: Progress | None
) -> dict[str, Checksum]:
    """Every table, parents first, in one transaction on the target; the source's rows
    summed as they are read."""
    sums: dict[str, Checksum] = {}
    async with source.connect() as read, target.connect() as write:
        if read.dialect.name == "postgresql":
            # One snapshot: the tables as they were at one moment, whatever is written meanwhile.
            await read.execution_options(isolation_level="REPEATABLE READ")
        if write.dialect.name == "sqlite":
            # A new file: if the machine falls over mid-copy, the copy starts again.
            await write.exec_driver_sql("PRAGMA synchronous=OFF")
            await write.commit()
        if write.dialect.name == "postgresql":
            # The transaction starts here, before the first COPY on the driver's connection;
            # a second copy into the same target waits, then finds the rows there.
            await write.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": COPY_LOCK})
        for table in copied_tables():
            try:
                sums[table.name] = await _copy_table(read, write, table, size, progress)
            except Exception as error:
                # The database's refusal (through SQLAlchemy, or asyncpg's own for COPY,
                # which carries a SQLSTATE) becomes the operator's sentence; a bug stays one.
                if not isinstance(error, DBAPIError) and not hasattr(error, "sqlstate"):
                    raise
                raise CopyRefused(_failed(error, table)) from error
        await _reset_sequences(write)
        await after_bulk_load(write)
        await write.commit()
        if write.dialect.name == "sqlite":
            await write.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return sums


def _failed(error: Exception, table: Table) -> str:
    """A row the target would not take (a text longer than its column, on PostgreSQL,
    where SQLite never checked): the database's words, without the row's values."""
    said = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    reason = (str(said).strip().splitlines() or [type(said).__name__])[0]
    return (f"The target refused a row of {table.name}: {reason}. Nothing was written to the "
            "target (its schema stays); the source is untouched.")  # fmt: skip


async def _copy_table(
    read: AsyncConnection,
    write: AsyncConnection,
    table: Table,
    size: int,
    progress: Progress | None,
) -> Checksum:
    """One table in pages of ``size`` rows, ids kept."""
    total = await count_rows(read, table)
    checksum = Checksum(table)
    writer = await _Writer.open(write, table)
    parents = _ParentsLater(table)
    if progress is not None:
        progress(table.name, 0, total)
    async for rows in prefetched(pages(read, table, size)):
        checksum.add(rows)
        await writer.put([parents.hold(list(row)) for row in rows])
        if progress is not None:
            progress(table.name, checksum.rows, max(total, checksum.rows))
    await parents.set(write)
    return checksum


class _Writer:
    """Rows into one table of the target, in the copy's transaction: PostgreSQL's COPY
    (several times faster than INSERTs), or SQLite's executemany."""

    def __init__(self, write: AsyncConnection, table: Table, raw: Any) -> None:
        self._write = write
        self._table = table
        self._raw = raw
        self._columns = [column.name for column in table.columns]
        # What SQLAlchemy would do to a value before the driver sees it, where it does
        # anything: an aware datetime made UTC (storage.models.UtcDateTime).
        self._bind = [(i, c.type.process_bind_param) for i, c in enumerate(table.columns)
                      if isinstance(c.type, TypeDecorator)]  # fmt: skip
        self._keys = [_param(column) for column in table.columns]
        self._insert = _insert(table, write.dialect.name)

    @classmethod
    async def open(cls, write: AsyncConnection, table: Table) -> _Writer:
        """A writer on the target's connection (its driver's own, for COPY)."""
        if write.dialect.name != "postgresql":
            return cls(write, table, None)
        raw = await write.get_raw_connection()
        return cls(write, table, raw.driver_connection)

    async def put(self, rows: list[list[Any]]) -> None:
        """Write one page."""
        if self._raw is None:
            await self._write.execute(self._insert, [dict(zip(self._keys, row, strict=True))
                                                     for row in rows])  # fmt: skip
            return
        dialect = self._write.dialect
        for row in rows:
            for i, bind in self._bind:
                row[i] = bind(row[i], dialect)
        await self._raw.copy_records_to_table(self._table.name, records=rows,
                                              columns=self._columns)  # fmt: skip


def _param(column: Any) -> str:
    return f"{_JSON_PARAM}{column.name}" if is_json(column) else str(column.key)


def _insert(table: Table, dialect: str) -> Any:
    """An INSERT of whole rows, JSON columns taken as their text."""
    values: dict[str, Any] = {}
    for column in table.columns:
        if is_json(column):
            text_value = bindparam(_param(column), type_=Text)
            values[column.name] = (
                cast(text_value, column.type) if dialect == "postgresql" else (text_value)
            )
    return insert(table).values(values) if values else insert(table)


class _ParentsLater:
    """A table referring to itself (a unit's parent): a row whose parent comes later in key
    order goes in without it, and gets it once the whole table is in."""

    def __init__(self, table: Table) -> None:
        self._table = table
        names = [column.name for column in table.columns]
        self._key = [(names.index(k.name), k) for k in table.primary_key.columns]
        self._columns = [(names.index(fk.parent.name), fk.parent) for fk in table.foreign_keys
                         if fk.column.table is table]  # fmt: skip
        self._later: list[dict[str, Any]] = []
        # Integer keys compare alike in Python and in the database; others are always set later.
        self._ordered = len(self._key) == 1 and isinstance(self._key[0][1].type, Integer)

    def hold(self, row: list[Any]) -> list[Any]:
        """The row as it goes in now."""
        for at, column in self._columns:
            value = row[at]
            if value is None or (self._ordered and value < row[self._key[0][0]]):
                continue
            self._later.append({"k_" + k.key: row[i] for i, k in self._key}
                               | {"v_" + column.key: value})  # fmt: skip
            row[at] = None
        return row

    async def set(self, write: AsyncConnection) -> None:
        """Give the held rows their parents."""
        for _at, column in self._columns:
            rows = [r for r in self._later if "v_" + column.key in r]
            if not rows:
                continue
            where = [k == bindparam("k_" + k.key) for _i, k in self._key]
            statement = (
                update(self._table)
                .where(*where)
                .values({column.name: bindparam("v_" + column.key)})
            )
            await write.execute(statement, rows)


async def _reset_sequences(write: AsyncConnection) -> None:
    """PostgreSQL: each id sequence past the highest id copied, so new rows take the next."""
    if write.dialect.name != "postgresql":
        return  # SQLite's next rowid is the highest one plus one by itself
    quote = write.dialect.identifier_preparer.quote
    for table in copied_tables():
        key = list(table.primary_key.columns)
        if len(key) != 1 or not isinstance(key[0].type, Integer):
            continue
        name, column = quote(table.name), quote(key[0].name)
        await write.execute(text(
            f"SELECT setval(pg_get_serial_sequence(:table, :column), "
            f"coalesce(max({column}), 1), max({column}) IS NOT NULL) FROM {name}"
        ), {"table": name, "column": key[0].name})  # fmt: skip


# -- the verification -------------------------------------------------------------------------


async def _summed(
    connection: AsyncConnection, table: Table, size: int, progress: Progress | None
) -> Checksum:
    """A table's checksum, its progress shown as '<table> (check)'."""
    label = f"{table.name} (check)"
    total = await count_rows(connection, table)
    report = None if progress is None else lambda done: progress(label, done, max(total, done))
    if progress is not None:
        progress(label, 0, total)
    return await table_checksum(connection, table, size, report)


async def _verify_target(
    target: AsyncEngine, sums: dict[str, Checksum], size: int, progress: Progress | None
) -> CopyReport:
    """Read the target back and compare it with the source's sums."""
    checks: list[TableCheck] = []
    async with target.connect() as connection:
        for table in copied_tables():
            there = await _summed(connection, table, size, progress)
            here = sums[table.name]
            checks.append(TableCheck(table.name, here.rows, there.rows, here.hex, there.hex))
    return CopyReport(checks)


def mismatched(report: CopyReport) -> Sequence[TableCheck]:
    """The tables that differ."""
    return [table for table in report.tables if not table.ok]
