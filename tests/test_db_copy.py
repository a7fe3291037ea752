"""``python -m bot db copy``: a whole database copied SQLite to PostgreSQL and back, every
id and value kept and verified; each refusal a sentence, with nothing written."""

from __future__ import annotations

import datetime as dt
import io
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, insert, null, select, text, update
from sqlalchemy.engine import make_url

from bot.__main__ import main
from bot.db_copy_cli import ProgressBar, print_report
from bot.preflight import InstanceLock
from domain.model import CountChange, Member
from storage.copying import CopyRefused, copy_database, verify_database
from storage.db import create_engine, current_revision, head_revision, upgrade
from storage.models import Base
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import DEFAULT_POSTGRES, run_in_thread
from tests.usecase_world import NOW, open_world

OLDER = "0024"
TABLES = Base.metadata.tables


def admin_url() -> str:
    """The server the test databases are made on."""
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES)


async def _admin(statement: str) -> None:
    engine = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database (no schema), dropped afterwards."""
    name = f"copy_target_{uuid.uuid4().hex[:10]}"
    try:
        run_in_thread(lambda: _admin(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL at {admin_url()} is required but not usable: {error}")
        pytest.skip(f"PostgreSQL not reachable at {admin_url()}: {error}")
    yield make_url(admin_url()).set(database=name).render_as_string(hide_password=False)
    run_in_thread(lambda: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite-to-postgresql", "postgresql-to-sqlite"])
def ends(request: pytest.FixtureRequest, empty_postgres: str, tmp_path: Path) -> tuple[str, str]:
    """(source, target): the direction is the parameter; neither has a schema yet."""
    sqlite = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    if request.param == "sqlite-to-postgresql":
        return sqlite, empty_postgres
    return empty_postgres, sqlite


# -- a database with something in every kind of column ------------------------------------

WORDS = 'Sáng kiến «máy cắt» — tổ 3 ✂️ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 "quotes" \\ back\tslash\n新しい'


async def populate(url: str) -> None:
    """The example units, members and roles through the bot's own code; then rows of every
    kind of value: Unicode, NULLs, aware times, dates, JSON (and JSON null), numbers, bytes,
    text keys that sort differently by collation, and a unit whose parent has a larger id."""
    async with open_world(url) as world:
        admin = await world.person("HN-LB-MAY10", admin_of="HN-LB-MAY10")
        author = await world.person("HN-LB-MAY10")
        phase = await world.phase()
        await world.figures(phase, {"HN-LB-MAY10": 3}, {"HN-LB-MAY10": 40})
        unit = await world.unit("HN-LB-MAY10")
        async with world.session() as uow:
            await uow.progress.change(unit.id, phase.id, CountChange(benefit_vnd=9 * 10**15 + 7))
            for statement in rows(admin.id, author.id, unit.id, phase.id):
                await uow.execute(statement)
            await uow.commit()


def rows(admin: int, author: int, unit: int, phase: int) -> list[Any]:
    """INSERTs and an UPDATE with the awkward values."""
    later = NOW + dt.timedelta(hours=7, microseconds=123456)
    common = {"author_id": author, "entered_by_id": author, "unit_id": unit,
              "created_at": NOW, "updated_at": later, "search_text": "sang kien"}  # fmt: skip
    return [
        insert(TABLES["units"]).values(
            id=5000,
            code="NEW-PARENT",
            name="Đơn vị mới",
            level="upper",
            parent_id=None,
            search_text="don vi moi",
            updated_at=NOW,
        ),
        update(TABLES["units"]).where(TABLES["units"].c.id == unit).values(parent_id=5000),
        insert(TABLES["initiatives"]).values(
            id=70,
            status="pending",
            step="done",
            editing=False,
            title=WORDS,
            kind="technical",
            field="production",
            problem=WORDS * 40,
            solution=None,
            applied=True,
            applied_since=dt.date(2024, 2, 29),
            effect="",
            benefit_vnd=10**15,
            benefit_known=True,
            coauthors_done=True,
            confidential=None,
            version=2,
            phase_id=phase,
            submitted_at=later,
            **common,
        ),
        insert(TABLES["initiatives"]).values(
            id=71,
            status="draft",
            step="title",
            editing=True,
            version=0,
            coauthors_done=False,
            **common,
        ),
        insert(TABLES["coauthors"]).values(
            initiative_id=70, position=1, name="Trần Thị Bé", share=Decimal("33.33")
        ),
        insert(TABLES["coauthors"]).values(
            initiative_id=70, position=2, name="Lê Văn C", share=None
        ),
        insert(TABLES["initiative_events"]).values(
            initiative_id=70,
            actor_id=admin,
            action="returned",
            role="admin",
            version=1,
            note=WORDS,
            at=later,
        ),
        insert(TABLES["conversations"]).values(
            member_id=author,
            state="draft",
            draft_id=71,
            updated_at=NOW,
            data={"b": [1, 2.5, None, True], "a": {"ý": "kiến"}, "n": None},
            choices=None,
        ),
        # SQL NULL, where the JSON type would write JSON null.
        insert(TABLES["conversations"]).values(
            member_id=admin, state="idle", updated_at=NOW, data={}, choices=null()
        ),
        insert(TABLES["submission_snapshots"]).values(
            initiative_id=70, version=1, digests={"title": "0123456789abcdef"}, submitted_at=NOW
        ),
        insert(TABLES["broadcasts"]).values(
            id=3,
            kind="announce",
            created_by_id=admin,
            message={"v": 1, "id": "x"},
            text="",
            status="sending",
            created_at=NOW,
            image=bytes(range(256)) * 3,
            buttons=None,
        ),
        insert(TABLES["outgoing"]).values(
            broadcast_id=3,
            member_id=author,
            chat_id="9002",
            channel="telegram",
            state="sent",
            urgent=False,
            attempts=1,
            sent_at=later,
        ),
        insert(TABLES["outgoing"]).values(
            broadcast_id=3,
            member_id=admin,
            chat_id="9001",
            channel="telegram",
            state="queued",
            urgent=True,
            attempts=0,
            error=None,
        ),
        insert(TABLES["kept_files"]).values(
            digest="ab" * 32,
            data=b"\x00\xff\x10PNG",
            mime_type="image/png",
            size=6,
            created_at=NOW,
            expires_at=None,
        ),
        insert(TABLES["participants"]).values(
            unit_id=unit, phase_id=phase, person="Ánh", approved=1
        ),
        insert(TABLES["participants"]).values(
            unit_id=unit, phase_id=phase, person="anh", approved=2
        ),
        insert(TABLES["participants"]).values(
            unit_id=unit, phase_id=phase, person="Zoë", approved=3
        ),
        insert(TABLES["leases"]).values(name="jobs", holder="old", acquired_at=NOW, expires_at=NOW),
        insert(TABLES["paid_send_days"]).values(day=dt.date(2026, 11, 21), messages=12),
        insert(TABLES["nudges"]).values(
            member_id=author, kind="draft", key="draft:71", day=dt.date(2026, 11, 22), sent_at=NOW
        ),
    ]


async def _events(url: str) -> None:
    """Handled updates whose text ids sort one way by bytes, another by a locale."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            events = [{"event_id": key, "at": NOW} for key in ("a", "B", "é", "Z", "tg:10", "tg:9")]
            await connection.execute(insert(TABLES["processed_events"]), events)
    finally:
        await engine.dispose()


@pytest.fixture
async def source(ends: tuple[str, str]) -> AsyncIterator[tuple[str, str]]:
    """The source filled, the target untouched."""
    source_url, target_url = ends
    await migrated(source_url)
    await populate(source_url)
    await _events(source_url)
    yield source_url, target_url


async def migrated(url: str, revision: str = "head") -> None:
    """Run the migrations on a database."""
    engine = create_engine(url)
    try:
        await upgrade(engine, revision)
    finally:
        await engine.dispose()


async def read_all(url: str, table: Table) -> list[Any]:
    """A table's rows as the bot reads them, in key order."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            ordered = select(table).order_by(*table.primary_key.columns)
            return [tuple(row) for row in await connection.execute(ordered)]
    finally:
        await engine.dispose()


async def scalar(url: str, statement: Any) -> Any:
    """One value read from a database."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(statement)).scalar()
    finally:
        await engine.dispose()


# -- the copy ---------------------------------------------------------------------------------


async def test_everything_is_copied_with_its_ids_and_verified_equal(
    source: tuple[str, str],
) -> None:
    source_url, target_url = source
    seen: list[tuple[str, int, int]] = []
    report = await copy_database(source_url, target_url, batch_rows=2,
                                 progress=lambda *shown: seen.append(shown))  # fmt: skip

    assert report.mismatches == 0
    assert [t.name for t in report.tables] == [t.name for t in Base.metadata.sorted_tables]
    filled = {t.name for t in report.tables if t.source_rows}
    assert {"units", "members", "roles", "initiatives", "conversations", "broadcasts",
            "outgoing", "kept_files", "participants", "unit_counts"} <= filled  # fmt: skip
    assert await current_revision_of(target_url) == head_revision()
    compared = (
        "units",
        "members",
        "initiatives",
        "coauthors",
        "conversations",
        "broadcasts",
        "kept_files",
        "participants",
        "processed_events",
        "unit_counts",
        "outgoing",
    )
    for name in compared:
        assert await read_all(target_url, TABLES[name]) == await read_all(
            source_url, TABLES[name]
        ), name
    # JSON null and SQL NULL stay apart; what the bot reads is the same.
    nulls = (
        select(func.count())
        .select_from(TABLES["conversations"])
        .where(TABLES["conversations"].c.choices.is_(None))
    )
    assert await scalar(target_url, nulls) == await scalar(source_url, nulls) == 1
    # Per table, in pages of two: rows done out of the table's total, up to all of them.
    assert ("initiatives", 2, 2) in seen and ("units", 0, 36) in seen
    assert ("units", 36, 36) in seen


async def current_revision_of(url: str) -> str | None:
    """The target's schema revision."""
    engine = create_engine(url)
    try:
        return await current_revision(engine)
    finally:
        await engine.dispose()


async def test_new_rows_after_the_copy_take_the_next_ids(source: tuple[str, str]) -> None:
    source_url, target_url = source
    await copy_database(source_url, target_url)
    highest = await scalar(target_url, select(func.max(TABLES["members"].c.id)))
    engine = create_engine(target_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            member = await uow.members.add(
                Member(id=0, channel="zalo", external_id="z-1", display_name="Mới",
                       language="vi"), NOW)  # fmt: skip
            await uow.execute(insert(TABLES["initiatives"]).values(
                author_id=member.id, entered_by_id=member.id, unit_id=5000, status="draft",
                step="title", editing=False, version=0, coauthors_done=False, created_at=NOW,
                updated_at=NOW))  # fmt: skip
            await uow.commit()
    finally:
        units_of_work.dispose()
        await engine.dispose()
    assert member.id == highest + 1
    assert await scalar(target_url, select(func.max(TABLES["initiatives"].c.id))) == 72


async def test_a_changed_row_in_the_target_is_found(source: tuple[str, str]) -> None:
    source_url, target_url = source
    await copy_database(source_url, target_url)
    engine = create_engine(target_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(update(TABLES["initiatives"])
                                     .where(TABLES["initiatives"].c.id == 70)
                                     .values(title="Sáng kiến khác"))  # fmt: skip
    finally:
        await engine.dispose()

    report = await verify_database(source_url, target_url)

    assert report.mismatches == 1
    (differs,) = [t for t in report.tables if not t.ok]
    assert differs.name == "initiatives" and differs.source_rows == differs.target_rows
    assert differs.source_checksum != differs.target_checksum


def test_the_printed_table_marks_the_table_that_differs(tmp_path: Path) -> None:
    from storage.copying import CopyReport, TableCheck

    report = CopyReport(
        [TableCheck("units", 3, 3, "a", "a"), TableCheck("members", 2, 1, "b", "c")]
    )
    out = tmp_path / "out.txt"
    with out.open("w") as handle:
        print_report(report, handle)
    lines = out.read_text().splitlines()
    assert lines[1].split() == ["units", "3", "3", "ok"]
    assert lines[2].split() == ["members", "2", "1", "DIFFERS"]
    assert lines[3].split() == ["total", "5", "4"]


# -- refusals: a sentence each, and nothing written ------------------------------------------


async def refused(source_url: str, target_url: str) -> str:
    """The sentence a refused copy says."""
    with pytest.raises(CopyRefused) as refusal:
        await copy_database(source_url, target_url)
    return refusal.value.message


async def test_a_target_with_rows_is_refused(source: tuple[str, str]) -> None:
    source_url, target_url = source
    await migrated(target_url)
    await seed_one_member(target_url)

    message = await refused(source_url, target_url)

    assert message.startswith("The target database is not empty: it has 1 row in members")
    assert await scalar(target_url, select(func.count()).select_from(TABLES["units"])) == 0


async def seed_one_member(url: str) -> None:
    """Somebody already in the target."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(TABLES["members"]).values(
                channel="telegram", external_id="1", display_name="A", language="vi",
                created_at=NOW, updated_at=NOW))  # fmt: skip
    finally:
        await engine.dispose()


async def test_a_target_at_another_revision_is_refused(source: tuple[str, str]) -> None:
    source_url, target_url = source
    await migrated(target_url, OLDER)

    message = await refused(source_url, target_url)

    assert message.startswith(f"The target database is at revision {OLDER}, the source at "
                              f"{head_revision()}")  # fmt: skip
    assert await current_revision_of(target_url) == OLDER


async def test_a_source_behind_the_code_is_refused(ends: tuple[str, str]) -> None:
    source_url, target_url = ends
    await migrated(source_url, OLDER)

    message = await refused(source_url, target_url)

    assert "run python -m bot db upgrade first" in message
    assert await current_revision_of(target_url) is None


async def test_a_running_bot_on_the_source_is_refused(source: tuple[str, str]) -> None:
    source_url, target_url = source
    lock = InstanceLock(source_url)
    if make_url(source_url).get_backend_name() == "sqlite":
        lock.acquire()  # as `python -m bot run` holds it
        expected = "A bot is running on the source database ("
    else:
        await lease_until(source_url, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30))
        expected = "A bot is running on the source database (its lease runs until"
    try:
        message = await refused(source_url, target_url)
    finally:
        lock.release()

    assert message.startswith(expected) and "stop" in message
    assert await current_revision_of(target_url) is None, "not even migrated"


async def lease_until(url: str, until: dt.datetime) -> None:
    """A process marked alive, as a running bot keeps it."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(TABLES["leases"]).values(
                name="process:1", holder="h", acquired_at=until, expires_at=until))  # fmt: skip
    finally:
        await engine.dispose()


async def test_a_copy_holds_off_a_bot_starting_on_the_source(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    await migrated(url)
    starting: list[str] = []

    def progress(table: str, done: int, total: int) -> None:
        if not starting:
            with pytest.raises(Exception, match="Another bot process is already running"):
                InstanceLock(url).acquire()
            starting.append(table)

    await copy_database(url, f"sqlite+aiosqlite:///{tmp_path}/copy.db", progress=progress)
    assert starting


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("postgresql+asyncpg://postgres@127.0.0.1:1/x", "the connection was refused"),
        ("postgresql+asyncpg://postgres@127.0.0.1:5432/no_such_db_here", "does not exist"),
        ("postgres://somewhere/db", "is not a database URL the bot runs on"),
        ("sqlite+aiosqlite:///:memory:", "not an in-memory database"),
    ],
)
async def test_an_unreachable_target_is_refused(
    tmp_path: Path, empty_postgres: str, target: str, expected: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    await migrated(url)
    host = make_url(admin_url())
    if "5432" in target:
        target = host.set(database="no_such_db_here").render_as_string(hide_password=False)

    message = await refused(url, target)

    assert expected in message


async def test_the_source_as_target_is_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    await migrated(url)

    message = await refused(url, f"sqlite+aiosqlite:///{tmp_path}/../{tmp_path.name}/bot.db")

    assert "is the source database itself" in message


# -- the command line ---------------------------------------------------------------------------


def test_the_command_copies_prints_the_table_and_refuses_a_second_time(
    tmp_path: Path, empty_postgres: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source_url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    run_in_thread(lambda: migrated(source_url))
    run_in_thread(lambda: populate(source_url))

    assert main(["--database-url", source_url, "db", "copy", "--to", empty_postgres]) == 0
    out = capsys.readouterr().out
    assert "table" in out and "checksum" in out
    assert any(line.split()[:4] == ["members", "2", "2", "ok"] for line in out.splitlines())
    assert "every table verified equal" in out

    assert main(["--database-url", source_url, "db", "copy", "--to", empty_postgres,
                 "--batch", "100"]) == 2  # fmt: skip
    assert "The target database is not empty" in capsys.readouterr().err


async def test_a_missing_source_file_is_refused_and_not_made(tmp_path: Path) -> None:
    message = await refused(f"sqlite+aiosqlite:///{tmp_path}/typo.db",
                            f"sqlite+aiosqlite:///{tmp_path}/copy.db")  # fmt: skip

    assert message.startswith(f"The source SQLite file {tmp_path}/typo.db does not exist")
    assert not (tmp_path / "typo.db").exists() and not (tmp_path / "copy.db").exists()


def test_the_progress_goes_to_a_log_as_a_line_a_table() -> None:
    out = io.StringIO()
    bar = ProgressBar(out, clock=lambda: 0.0)
    for done in (0, 2, 4):
        bar("units", done, 4)
    bar("members", 0, 0)
    bar.close()

    assert out.getvalue().splitlines() == [
        "  units                          [##############################]         4/4",
        "  members                        [##############################]         0/0",
    ]


async def test_a_row_postgresql_will_not_take_stops_the_copy_with_nothing_written(
    tmp_path: Path, empty_postgres: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    await migrated(url)
    await populate(url)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:  # SQLite never checked a column's length
            await connection.execute(update(TABLES["members"]).values(channel="x" * 40))
    finally:
        await engine.dispose()

    message = await refused(url, empty_postgres)

    assert message.startswith("The target refused a row of members: value too long")
    assert "Nothing was written to the target" in message
    assert await scalar(empty_postgres, select(func.count()).select_from(TABLES["units"])) == 0
