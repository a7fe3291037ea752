"""Loading the synthetic national data set of ``benchmarks.national`` into a database.

Directly with SQLAlchemy Core bulk inserts, not through the bot: SQLite through a
synchronous SQLAlchemy connection on the same file (``exec_driver_sql`` executemany,
50.000 rows a batch, foreign keys off and ``synchronous=OFF`` for the load only);
PostgreSQL through asyncpg's ``copy_records_to_table`` on the raw connection of the
SQLAlchemy engine, with ``session_replication_role = replica`` (no per-row foreign-key
triggers; the data is consistent by construction), sequences moved past the explicit
ids, then ``VACUUM ANALYZE`` as autovacuum would do after such a load.  Then the
roll-ups with the bot's own code: ``rebuild_closure()`` and ``rebuild_counts()`` in one
unit of work (``SqlUnitOfWorkFactory``).  Every step is timed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url

from benchmarks.harness import (
    admin_execute,
    database_url,
    drop_database,
    fresh_database,
    migrate,
    postgres_database,
    progress,
)
from benchmarks.national import (
    BATCH,
    INITIATIVE_COLUMNS,
    LOAD_TIME,
    PHASE_CODE,
    PHASE_END,
    PHASE_NAME,
    PHASE_START,
    PHASE_TARGET,
    Tree,
    grassroots_below,
    initiative_rows,
    measured_people,
    member_rows,
    participant_rows,
)
from domain.privacy import NOTICE_VERSION
from domain.progress import add_phase
from storage.db import create_engine, current_revision, head_revision
from storage.uow import SqlUnitOfWorkFactory


@dataclass
class Timings:
    """Seconds per generation step."""

    steps: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def step(self, name: str, engine: str) -> Iterator[None]:
        """Time one step and say so."""
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        self.steps[name] = self.steps.get(name, 0.0) + seconds
        progress(f"  {engine}: {name:<18} {seconds:8.2f} s")


def _sqlite_stamp(value: dt.datetime) -> str:
    # As SQLAlchemy's SQLite DATETIME stores the UTC value of ``UtcDateTime``.
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_day(value: dt.date) -> str:
    return value.isoformat()


def _same(value: Any) -> Any:
    return value


def _placeholders(engine: str, count: int) -> str:
    return ", ".join("?" if engine == "sqlite" else f"${i}" for i in range(1, count + 1))


class Loader:
    """Bulk inserts: executemany on a synchronous SQLite connection, COPY on PostgreSQL."""

    def __init__(self, engine_name: str, url: str) -> None:
        self.engine_name = engine_name
        self.url = url
        self._engine: Any = None
        self._sync: Any = None
        self._async: Any = None
        self._raw: Any = None

    async def __aenter__(self) -> Loader:
        if self.engine_name == "sqlite":
            sync = create_sync_engine(make_url(self.url).set(drivername="sqlite"))
            self._engine = sync
            self._sync = sync.connect()
            # pysqlite begins its transaction at the first INSERT, after these pragmas.
            for pragma in ("synchronous=OFF", "foreign_keys=OFF", "cache_size=-1000000",
                           "temp_store=MEMORY"):  # fmt: skip
                self._sync.exec_driver_sql(f"PRAGMA {pragma}")
        else:
            self._engine = create_engine(self.url, pool_size=1, max_overflow=0)
            self._async = await self._engine.connect()
            await self._async.begin()
            try:
                async with self._async.begin_nested():
                    await self._async.execute(text("SET session_replication_role = replica"))
            except Exception as error:  # not a superuser: foreign-key triggers stay on
                progress(f"  postgres: foreign-key triggers stay on during the load ({error})")
            self._raw = (await self._async.get_raw_connection()).driver_connection
        return self

    async def commit(self) -> None:
        """Commit the load."""
        if self._sync is not None:
            self._sync.commit()
        else:
            await self._async.execute(text("SET session_replication_role = DEFAULT"))
            await self._async.commit()

    async def __aexit__(self, *exc: object) -> None:
        if self._sync is not None:
            self._sync.close()
            self._engine.dispose()
        else:
            await self._async.close()
            await self._engine.dispose()

    @property
    def stamp(self) -> Callable[[dt.datetime], Any]:
        """How a datetime is handed to the driver."""
        return _sqlite_stamp if self.engine_name == "sqlite" else _same

    @property
    def day(self) -> Callable[[dt.date], Any]:
        """How a date is handed to the driver."""
        return _sqlite_day if self.engine_name == "sqlite" else _same

    async def insert(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Insert one batch of rows."""
        if not rows:
            return
        if self._sync is not None:
            statement = (f"INSERT INTO {table} ({', '.join(columns)}) "
                         f"VALUES ({_placeholders('sqlite', len(columns))})")  # fmt: skip
            self._sync.exec_driver_sql(statement, list(rows))
        else:
            await self._raw.copy_records_to_table(table, records=rows, columns=list(columns))

    async def execute(self, statement: str) -> None:
        """A plain statement in the load transaction."""
        if self._sync is not None:
            self._sync.exec_driver_sql(statement)
        else:
            await self._async.execute(text(statement))


UNIT_COLUMNS = ("id", "code", "name", "level", "parent_id", "search_text", "updated_at")
MEMBER_COLUMNS = ("id", "channel", "external_id", "display_name", "language", "full_name",
                  "phone", "unit_id", "created_at", "updated_at")  # fmt: skip


InitiativeSource = Callable[..., Iterator[list[tuple[Any, ...]]]]


async def generate(
    engine_name: str,
    url: str,
    tree: Tree,
    timings: Timings,
    rows_of: InitiativeSource = initiative_rows,
    columns: Sequence[str] = INITIATIVE_COLUMNS,
) -> dict[str, Any]:
    """Fill the empty, migrated database; return facts about what was written (the
    initiatives as ``rows_of`` makes them, national's by default)."""
    engine = create_engine(url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    facts: dict[str, Any] = {}
    people = measured_people(tree)
    try:
        with timings.step("phase", engine_name):
            phase = await add_phase(units_of_work, PHASE_CODE, PHASE_NAME, PHASE_START,
                                    PHASE_END, PHASE_TARGET)  # fmt: skip
        approved_by: Counter[int] = Counter()
        async with Loader(engine_name, url) as load:
            stamp = load.stamp
            with timings.step("units", engine_name):
                for start in range(0, len(tree.units), BATCH):
                    await load.insert("units", UNIT_COLUMNS, [
                        (*row, stamp(LOAD_TIME)) for row in tree.units[start : start + BATCH]
                    ])  # fmt: skip
            with timings.step("targets", engine_name):
                rows = [(u, phase.id, t, stamp(LOAD_TIME)) for u, t in tree.targets.items()]
                for start in range(0, len(rows), BATCH):
                    await load.insert("targets", ("unit_id", "phase_id", "target", "updated_at"),
                                      rows[start : start + BATCH])  # fmt: skip
            with timings.step("members", engine_name):
                for batch in member_rows(tree, stamp):
                    await load.insert("members", MEMBER_COLUMNS, batch)
                # The measured people: the member gets a Telegram id, the admins are new
                # members, each joined to a grassroots unit below their own, with a role.
                await load.execute(
                    f"UPDATE members SET external_id = '{people[0].telegram_id}' "
                    f"WHERE id = {people[0].member_id}"
                )
                extra = []
                for person in people[1:]:
                    assert person.admin_of is not None
                    joined = grassroots_below(tree, person.admin_of)
                    extra.append((person.member_id, "telegram", str(person.telegram_id),
                                  f"Admin {person.key}", "vi", f"Trần Văn Quản Trị {person.key}",
                                  None, joined, stamp(LOAD_TIME), stamp(LOAD_TIME)))  # fmt: skip
                await load.insert("members", MEMBER_COLUMNS, extra)
                # They agreed to the privacy notice before: their requests are measured,
                # not the notice asked first.
                ids = ", ".join(str(person.member_id) for person in people)
                await load.execute(f"UPDATE members SET consent_version = '{NOTICE_VERSION}' "
                                   f"WHERE id IN ({ids})")  # fmt: skip
                await load.insert(
                    "roles", ("id", "member_id", "unit_id", "kind", "granted_at"),
                    [(k, p.member_id, p.admin_of, "admin", stamp(LOAD_TIME))
                     for k, p in enumerate(people[1:], start=1)],
                )  # fmt: skip
            with timings.step("initiatives", engine_name):
                for batch in rows_of(tree, phase.id, stamp, load.day, approved_by):
                    await load.insert("initiatives", columns, batch)
            with timings.step("participants", engine_name):
                persons = participant_rows(tree, phase.id, approved_by)
                for start in range(0, len(persons), BATCH):
                    await load.insert("participants",
                                      ("unit_id", "phase_id", "person", "approved"),
                                      persons[start : start + BATCH])  # fmt: skip
            if engine_name == "postgres":
                with timings.step("sequences", engine_name):
                    for table in ("units", "members", "initiatives", "roles"):
                        await load.execute(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))"
                        )
            with timings.step("commit", engine_name):
                await load.commit()
        facts["participants"] = len(persons)
        facts["approved"] = sum(approved_by.values())
        if engine_name == "postgres":
            with timings.step("vacuum_analyze", engine_name):
                await admin_execute(url, "VACUUM ANALYZE")
        else:
            with timings.step("checkpoint", engine_name):
                async with engine.connect() as connection:
                    await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        # The roll-ups, with the bot's own code.
        async with units_of_work() as uow:
            with timings.step("rebuild_closure", engine_name):
                await uow.progress.rebuild_closure()
            with timings.step("rebuild_counts", engine_name):
                await uow.progress.rebuild_counts()
            with timings.step("rollup_commit", engine_name):
                await uow.commit()
        if engine_name == "postgres":
            with timings.step("analyze_rollups", engine_name):
                await admin_execute(url, "VACUUM ANALYZE unit_ancestors")
                await admin_execute(url, "VACUUM ANALYZE unit_counts")
    finally:
        units_of_work.dispose()
        await engine.dispose()
    return facts


# -- databases ---------------------------------------------------------------------


async def _complete(url: str, tree: Tree) -> bool:
    """Whether a kept database holds this data set, with its roll-ups, at the head migration."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        if await current_revision(engine) != head_revision():
            return False
        async with engine.connect() as connection:
            units = (await connection.execute(text("SELECT count(*) FROM units"))).scalar_one()
            count = (await connection.execute(text("SELECT max(id) FROM initiatives"))).scalar()
            rolled = (await connection.execute(
                text("SELECT count(*) FROM unit_counts WHERE unit_id = :n"),
                {"n": tree.national})).scalar_one()  # fmt: skip
        return units == len(tree.units) and count == tree.initiatives and rolled == 1
    except Exception:
        return False
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def database(
    engine_name: str, postgres_url: str, tree: Tree, keep: Path | None, kind: str = "stats"
) -> AsyncIterator[tuple[str, bool]]:
    """(url, reused): an empty migrated database, or a complete one kept in ``keep``
    (named after ``kind``: benchmarks with the same data set share it)."""
    if keep is None:
        async with fresh_database(engine_name, postgres_url, units=False) as url:
            yield url, False
        return
    if engine_name == "sqlite":
        keep.mkdir(parents=True, exist_ok=True)
        path = keep / f"{kind}-{len(tree.units)}-{tree.initiatives}.db"
        url = f"sqlite+aiosqlite:///{path}"
        if path.exists() and await _complete(url, tree):
            yield url, True
            return
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        await migrate(url, units=False)
        yield url, False
        return
    name = f"sangkien_{kind}_{len(tree.units)}_{tree.initiatives}"
    if await _complete(database_url(postgres_url, name), tree):
        yield database_url(postgres_url, name), True
        return
    await drop_database(postgres_url, name)
    async with postgres_database(postgres_url, name, keep=True) as url:
        await migrate(url, units=False)
        yield url, False
