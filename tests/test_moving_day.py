"""Moving day: a district union's bot, filled through the chat on SQLite, is stopped,
copied to PostgreSQL with ``python -m bot db copy`` and started there; its members carry
on where they were, and nobody gets anything twice."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import shutil
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from telegram.request import RequestData

from bot.__main__ import main
from bot.preflight import InstanceLock
from bot.serve import build_runtime
from bot.settings import Settings
from domain.model import InitiativeStatus
from domain.progress import add_phase
from handlers.telegram.fake import TOO_MANY, parameters_of
from storage.db import create_engine
from tests.conftest import DEFAULT_POSTGRES, Clock, run_in_thread, seed_units, stop
from tests.fakebotapi import TOKEN, FakeBotApi, Harness, Member
from tests.scenario import answer_all, join
from tests.test_progress import PHASE, Database
from tests.test_review import drain, grant, run_job, submit
from tests.test_submission import load

ADMIN = 9001  # the admin of LĐLĐ quận Long Biên: May 10 has none, so they review too
# Title-only draft, draft at the benefit, draft at the summary, approved, rejected,
# returned and resubmitted; the last one works at Đức Giang.
LAN, MINH, TUAN, AN, BINH, CHI, DUNG = range(9101, 9108)
NAMES = {LAN: "Nguyễn Thị Lan", MINH: "Trần Văn Minh", TUAN: "Lê Văn Tuấn",
         AN: "Phạm Văn An", BINH: "Hoàng Thị Bình", CHI: "Đỗ Thị Chi",
         DUNG: "Vũ Văn Dũng"}  # fmt: skip
ANNOUNCEMENT = "Chủ nhật này công đoàn tổ chức hội thi sáng kiến, mời các bạn tham gia!"
# Announcement messages Telegram lets through before the move: the rest wait.
BEFORE_THE_MOVE = 3
MONDAY_0805 = dt.datetime(2026, 11, 23, 1, 5, tzinfo=dt.UTC)  # 08:05 in Hà Nội
MONDAY_1000 = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC)  # a day after the drafts


class Flooded(FakeBotApi):
    """Telegram lets the first ``allowed`` announcement messages through, then asks the
    bot to wait a second, again and again, as in a flood: the rest stay queued."""

    def __init__(self, allowed: int) -> None:
        super().__init__()
        self.allowed = allowed

    async def answer(self, name: str, request_data: RequestData | None) -> tuple[int, bytes]:
        """A 429 for the announcement once ``allowed`` of it went; all else as usual."""
        if name == "sendMessage" and parameters_of(request_data).get("text") == ANNOUNCEMENT:
            if sum(announced(self).values()) >= self.allowed:
                self.too_many += 1
                return 429, TOO_MANY
        return await super().answer(name, request_data)


def announced(api: FakeBotApi) -> Counter[int]:
    """How many times each member received the announcement from this process (its
    sender's preview left out)."""
    return Counter(int(c.params["chat_id"]) for c in api.calls
                   if c.method == "sendMessage" and c.params.get("text") == ANNOUNCEMENT
                   and int(c.params["chat_id"]) != ADMIN)  # fmt: skip


@dataclass
class Before:
    """What members saw on SQLite, to compare with PostgreSQL's answers."""

    # The question each draft's author was left at, as /new shows it on coming back.
    questions: dict[int, str] = field(default_factory=dict)
    stats: dict[int, str] = field(default_factory=dict)
    # An update the bot handled (Minh's answer to the effect question).
    handled: dict[str, Any] = field(default_factory=dict)
    # The "Tiếp tục" button of the nudge Lan got about her draft.
    lan_continues: str = ""
    received: Counter[int] = field(default_factory=Counter)


# -- the two databases ----------------------------------------------------------------


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """The unit's SQLite file, migrated, as a district union starts."""
    path = tmp_path / "bot.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


def _on_server(admin_url: str, statement: str) -> None:
    async def run() -> None:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    run_in_thread(run)


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database (not migrated: the copy does it); dropped after."""
    admin_url = os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES)
    name = f"sangkien_move_{uuid.uuid4().hex[:10]}"
    try:
        _on_server(admin_url, f'CREATE DATABASE "{name}"')
    except Exception as error:
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL at {admin_url} is required but not usable: {error}")
        pytest.skip(f"PostgreSQL not reachable at {admin_url}: {error}")
    yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    _on_server(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def programme(database_url: str) -> None:
    """The unit tree, phase 2 with a target of 10 for May 10, and Long Biên's admin."""
    await seed_units(database_url)
    db = Database(database_url)
    try:
        phase = await add_phase(db.units_of_work, *PHASE)
        async with db.units_of_work() as uow:
            may10 = await uow.units.by_code("HN-LB-MAY10")
            assert may10 is not None
            await uow.progress.set_targets([(may10.id, phase.id, 10)], dt.datetime.now(dt.UTC))
            await uow.commit()
    finally:
        await db.close()
    await grant(database_url, "HN-LB", ADMIN)


@contextlib.asynccontextmanager
async def running(database_url: str, clock: Clock, api: FakeBotApi) -> AsyncIterator[Harness]:
    """A bot process as ``python -m bot run`` starts it (holding SQLite's lock), stopped
    cleanly at the end."""
    lock = InstanceLock(database_url)
    lock.acquire()
    try:
        settings = Settings(telegram_bot_token=TOKEN, database_url=database_url,
                            migrate_on_start=False, job_lease_seconds=1.5)  # fmt: skip
        runtime = build_runtime(settings, request=api, clock=clock)
        harness = Harness(runtime, api)
        await runtime.start()
        try:
            yield harness
        finally:
            await stop(harness)
        assert not harness.errors, f"handlers raised: {harness.errors!r}"
    finally:
        lock.release()


# -- on SQLite ------------------------------------------------------------------------


async def come_back(worker: Member, number: int) -> str:
    """The member opens their draft again from /new: the question it stands at."""
    await worker.say("/new")
    await worker.tap(f"SK-{number:06d}")
    return worker.last().text


async def leave_drafts(bot: Harness, before: Before) -> None:
    """Lan stops after the title, Minh at the benefit, Tuấn at the summary."""
    lan, minh, tuan = bot.member(LAN, "Lan"), bot.member(MINH, "Minh"), bot.member(TUAN, "Tuấn")
    await lan.say("/new")
    await lan.say("Băng tải tự dừng khi có vật lạ")
    assert "Câu hỏi 2/11" in lan.last().text, lan.transcript()
    await minh.say("/new")
    await minh.say("Máng hứng dầu máy khâu")
    await minh.tap("Giải pháp kỹ thuật")
    await minh.tap("Sản xuất")
    await minh.say("Dầu máy khâu nhỏ xuống vải, phải giặt lại cả lô.")
    await minh.tap("Xong")
    await minh.say("Gắn máng nhựa hứng dầu dưới đầu máy.")
    await minh.tap("Xong")
    await minh.tap("Tháng này")
    await minh.say("Không còn vải dính dầu, bớt một lần giặt mỗi lô.")
    assert minh.last_update is not None
    before.handled = minh.last_update
    await tuan.say("/new")
    await answer_all(tuan, "Đèn báo hết chỉ")
    assert any("Gửi duyệt" in label for label, _ in tuan.last().buttons)
    for worker, number in ((lan, 1), (minh, 2), (tuan, 3)):
        before.questions[worker.id] = await come_back(worker, number)


async def decide(bot: Harness) -> None:
    """An's initiative is approved, Bình's rejected with a typed reason; Chi's is returned,
    and she edits it and sends it again (version 2, waiting)."""
    admin = bot.member(ADMIN, "Long Biên")
    an, binh, chi = bot.member(AN, "An"), bot.member(BINH, "Bình"), bot.member(CHI, "Chi")
    await submit(an, "Giá treo cuộn chỉ xoay")
    await admin.press("r:ok:4:1")
    await admin.press("r:yes:4:1")
    assert "được duyệt" in an.last().text, an.transcript()
    await submit(binh, "Bàn là hơi tiết kiệm điện")
    await admin.press("r:rej:5:1")
    await admin.say("Đã có sáng kiến tương tự năm 2023.")
    await admin.press("r:yes:5:1")
    assert "Đã có sáng kiến tương tự năm 2023." in binh.last().text, binh.transcript()
    await submit(chi, "Kéo cắt chỉ gắn bàn máy")
    await admin.press("r:ret:6:1")
    await admin.tap("Thiếu số liệu hiệu quả")
    await admin.press("r:yes:6:1")
    await chi.tap("Sửa và gửi lại")
    await chi.tap("✏️ Hiệu quả")
    await chi.say("Giảm 30 phút dừng máy mỗi ca, tiết kiệm 1,2 triệu đồng mỗi tháng.")
    await chi.tap("Gửi duyệt")
    assert "lần 2" in admin.last().text, admin.transcript()


async def commend_and_nudge(bot: Harness, clock: Clock, before: Before) -> None:
    """Monday: the week's commendation to everyone, then the nudges about the drafts."""
    clock.now = MONDAY_0805
    await run_job(bot, "weekly")
    lan = bot.member(LAN, "Lan")
    assert any("Biểu dương tuần" in c.text for c in bot.api.sent_to(LAN)), lan.transcript()
    clock.now = MONDAY_1000
    await run_job(bot, "nudges")
    for worker in (LAN, MINH, TUAN):
        assert any("chưa gửi" in c.text for c in bot.api.sent_to(worker)), worker
    before.lan_continues = lan.button("Tiếp tục")


async def half_announce(bot: Harness, before: Before) -> None:
    """Long Biên's admin announces to every member; Telegram takes only some in time."""
    admin = bot.member(ADMIN, "Long Biên")
    await admin.say("/announce")
    await admin.say(ANNOUNCEMENT)
    await admin.tap("Mọi đoàn viên")
    assert f"{len(NAMES)} đoàn viên" in admin.last().text, admin.last().text
    await admin.tap("📣 Gửi")
    # Until Telegram has taken its share and refused the next one: the rest waits.
    for _ in range(400):
        if sum(announced(bot.api).values()) >= BEFORE_THE_MOVE and bot.api.too_many:
            break
        await asyncio.sleep(0.025)
    before.received = announced(bot.api)
    assert sum(before.received.values()) == BEFORE_THE_MOVE and bot.api.too_many


async def fill(
    sqlite_url: str, postgres_url: str, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> Before:
    """Everything a unit's first weeks leave in the database, through the bot."""
    before = Before()
    await programme(sqlite_url)
    async with running(sqlite_url, clock, Flooded(BEFORE_THE_MOVE)) as bot:
        for worker_id, name in NAMES.items():
            code = "HN-LB-DUCGIANG" if worker_id == DUNG else "HN-LB-MAY10"
            await join(bot.member(worker_id, name.split()[-1]), code=code, name=name)
        await leave_drafts(bot, before)
        await decide(bot)
        await commend_and_nudge(bot, clock, before)
        for someone in (ADMIN, AN):
            await bot.member(someone, "Xem").say("/stats")
            before.stats[someone] = bot.member(someone, "Xem").last().text
        await half_announce(bot, before)
        await refused_while_running(postgres_url, capsys)
    return before


# -- the move -------------------------------------------------------------------------


async def tables_in(url: str) -> list[str]:
    """The tables a database has."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()


async def refused_while_running(postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The operator forgot to stop the bot: the copy says so and writes nothing."""
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["db", "copy", "--to", postgres_url]) == 2
    assert "running" in capsys.readouterr().err.lower()
    assert await tables_in(postgres_url) == [], "nothing written"


def copy(sqlite_url: str, postgres_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    """The operator's command, with DATABASE_URL still the SQLite file: its printed table."""
    capsys.readouterr()
    assert main(["db", "copy", "--to", postgres_url]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


# -- on PostgreSQL --------------------------------------------------------------------


# What the scheduled jobs sent on SQLite: the week's commendation (and its card), nudges
# about drafts, milestones, lagging units.
SCHEDULED = ("Biểu dương tuần", "Thẻ biểu dương", "chưa gửi", "🎉", "📉")


async def nothing_twice(bot: Harness) -> None:
    """The week's commendation and the day's nudges, run again at the same moment after
    the move, send nothing: they are on record."""
    await run_job(bot, "weekly")
    await run_job(bot, "nudges")
    again = [c.text for c in bot.api.calls if c.method in ("sendMessage", "sendPhoto")
             and any(mark in c.text for mark in SCHEDULED)]  # fmt: skip
    assert again == [], again


async def announcement_finishes(bot: Harness, before: Before) -> None:
    """The rest of the announcement goes out; nobody gets it twice, nobody misses it."""
    await drain(bot)
    everywhere = before.received + announced(bot.api)
    assert set(everywhere) == set(NAMES), "none is missed"
    assert set(everywhere.values()) == {1}, f"none is repeated: {everywhere}"
    admin = bot.member(ADMIN, "Long Biên")
    for _ in range(100):
        if any("Đã gửi xong" in c.text for c in bot.api.sent_to(ADMIN)):
            break
        await asyncio.sleep(0.05)
    assert f"{len(NAMES)} người đã nhận" in admin.last().text, admin.transcript()


async def drafts_resume(bot: Harness, postgres_url: str, before: Before) -> None:
    """Each draft stands where it was left, whichever way its author comes back."""
    lan, minh, tuan = bot.member(LAN, "Lan"), bot.member(MINH, "Minh"), bot.member(TUAN, "Tuấn")
    await lan.press(before.lan_continues)
    assert lan.last().text == before.questions[LAN], lan.transcript()
    await minh.say("1.200.000đ")
    assert (await load(postgres_url, 2)).benefit_vnd == 1_200_000
    assert "Câu hỏi" in minh.last().text, minh.transcript()
    assert await come_back(tuan, 3) == before.questions[TUAN]
    await tuan.tap("Gửi duyệt")
    assert (await load(postgres_url, 3)).status is InitiativeStatus.PENDING


async def carry_on(postgres_url: str, clock: Clock, before: Before) -> None:
    """The bot on PostgreSQL: the same figures, the same drafts, the announcement ends."""
    async with running(postgres_url, clock, FakeBotApi()) as bot:
        for someone in (ADMIN, AN):
            await bot.member(someone, "Xem").say("/stats")
            assert bot.member(someone, "Xem").last().text == before.stats[someone]
        minh = bot.member(MINH, "Minh")
        assert await minh.deliver(before.handled) == [], "a redelivered update is answered once"
        await nothing_twice(bot)
        await announcement_finishes(bot, before)
        await drafts_resume(bot, postgres_url, before)
        dung = bot.member(DUNG, "Dũng")
        await submit(dung, "Xe đẩy vải có phanh")
        assert "SK-000007" in dung.last().text, dung.transcript()
        admin = bot.member(ADMIN, "Long Biên")
        await admin.press("r:ok:6:2")
        await admin.press("r:yes:6:2")
        assert "được duyệt" in bot.member(CHI, "Chi").last().text
        (card,) = [c for c in bot.api.by_chat[ADMIN] if c.method == "editMessageText"]
        assert "✅ Đã duyệt bởi" in card.text, "the card shown before the move is updated"
    assert (await load(postgres_url, 6)).version == 2


async def test_moving_from_sqlite_to_postgresql_loses_nothing(
    sqlite_url: str,
    empty_postgres: str,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    before = await fill(sqlite_url, empty_postgres, clock, capsys)
    table = await asyncio.to_thread(copy, sqlite_url, empty_postgres, capsys)
    for name in ("initiatives", "outgoing", "processed_events", "conversations", "nudges"):
        assert name in table, table
    with capsys.disabled():
        print(f"\n{table}")
    await carry_on(empty_postgres, clock, before)
