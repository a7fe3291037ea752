"""Running figures up the unit tree stay equal to a direct count of the initiatives."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import astuple
from pathlib import Path

from domain.progress import add_phase
from domain.units import import_units
from storage.db import create_engine
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import EXAMPLE_UNITS
from tests.fakebotapi import Harness, Member
from tests.scenario import answer_all, join
from tests.test_review import grant

PHASE = ("GD2", "Giai đoạn 2", dt.date(2026, 6, 1), dt.date(2027, 9, 30), 1_000_000)
# (unit, phase, approved, pending, returned, people, benefit), as the progress repository counts.
Counts = list[tuple[int, int, int, int, int, int, int]]


class Database:
    """Direct access to the test database through the core's use cases."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.units_of_work = SqlUnitOfWorkFactory(self.engine)

    async def close(self) -> None:
        self.units_of_work.dispose()
        await self.engine.dispose()

    async def counts(self) -> tuple[Counts, Counts]:
        async with self.units_of_work() as uow:
            stored, direct = await uow.progress.stored_counts(), await uow.progress.direct_counts()
        return [astuple(c) for c in stored], [astuple(c) for c in direct]


async def test_figures_match_a_direct_count(
    bot: Harness, database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url)
    try:
        await add_phase(db.units_of_work, *PHASE)
        await grant(database_url, "TLD", 990)
        admin = bot.member(990, "Tổng")
        workers: list[Member] = []
        for index, code in enumerate(["HN-LB-MAY10", "TH-KCN-ANNORA", "NA-VINH-BVHN"]):
            worker = bot.member(1000 + index, f"Người {index}")
            await join(worker, code=code, name=f"Nguyễn Văn {chr(65 + index)}")
            workers.append(worker)
        chance = random.Random(20261122)
        submitted = 0
        for round_ in range(4):
            for worker in workers:
                await worker.say("/new")
                if any("Bắt đầu mới" in label for label, _ in worker.last().buttons):
                    await worker.tap("Bắt đầu mới")
                await answer_all(worker, title=f"Sáng kiến {round_}")
                await worker.tap("Gửi duyệt")
                submitted += 1
            for number in range(1, submitted + 1):
                roll = chance.random()
                if roll < 0.5:
                    await admin.press(f"r:ok:{number}:1")
                elif roll < 0.7:
                    await admin.press(f"r:ret:{number}:1")
                    await admin.press(f"r:why:{number}:1:nodata")
                elif roll < 0.8:
                    await admin.press(f"r:rej:{number}:1")
                    await admin.press(f"r:why:{number}:1:scope")
                else:
                    continue
                await admin.press(f"r:yes:{number}:1")
            for worker in workers:
                if chance.random() < 0.5 and any(
                    "Sửa và gửi lại" in label
                    for c in bot.api.sent_to(worker.id)[-3:]
                    for label, _ in c.buttons
                ):
                    await worker.tap("Sửa và gửi lại")
                    await worker.tap("Gửi duyệt")
            stored, direct = await db.counts()
            assert stored == direct, f"round {round_}"
        # Move a grassroots unit to another parent: every roll-up above it changes.
        moved = tmp_path / "moved.csv"
        moved.write_text(
            EXAMPLE_UNITS.read_text(encoding="utf-8").replace(
                "HN-LB-MAY10,CĐCS Công ty May 10,HN-LB,", "HN-LB-MAY10,CĐCS Công ty May 10,HN-HM,"
            ),
            encoding="utf-8",
        )
        await import_units(db.units_of_work, moved.read_bytes(), dt.datetime.now(dt.UTC))
        stored, direct = await db.counts()
        assert stored == direct
        assert any(row[2] for row in stored), "some initiatives were approved"
    finally:
        await db.close()


async def test_a_unit_with_only_rejected_initiatives_counts_nothing(
    bot: Harness, database_url: str
) -> None:
    db = Database(database_url)
    try:
        await add_phase(db.units_of_work, *PHASE)
        await grant(database_url, "HN-LB-MAY10", 991)
        worker = bot.member(1010, "Lan")
        await join(worker)
        await worker.say("/new")
        await answer_all(worker)
        await worker.tap("Gửi duyệt")
        assert (await db.counts())[0], "pending counts up the tree"
        admin = bot.member(991, "An")
        await admin.press("r:rej:1:1")
        await admin.press("r:why:1:1:scope")
        await admin.press("r:yes:1:1")
        stored, direct = await db.counts()
        assert stored == direct == []
    finally:
        await db.close()


async def test_an_approval_taken_back_and_resubmitted(bot: Harness, database_url: str) -> None:
    db = Database(database_url)
    try:
        await add_phase(db.units_of_work, *PHASE)
        await grant(database_url, "HN-LB", 992)
        worker = bot.member(1011, "Lan")
        await join(worker)
        await worker.say("/new")
        await answer_all(worker)
        await worker.tap("Gửi duyệt")
        admin = bot.member(992, "An")
        await admin.press("r:ok:1:1")
        await admin.press("r:yes:1:1")

        async def approved() -> int:
            stored, direct = await db.counts()
            assert stored == direct
            return sum(row[2] for row in stored)

        assert await approved() == 4, "the unit and its three units above"
        await admin.say("/reopen SK-000001")
        assert "lý do" in admin.last().text, "a reason is required"
        await admin.say("/reopen SK-000001 Hội đồng thấy trùng với sáng kiến năm trước")
        assert "trả lại" in admin.last().text
        assert "Hội đồng thấy trùng" in worker.last().text
        assert await approved() == 0, "the approval no longer counts"
        await admin.say("/reopen SK-000001 lần nữa")
        assert "chưa có quyết định" in admin.last().text
        await worker.tap("Sửa và gửi lại")
        await worker.tap("Gửi duyệt")
        await admin.press("r:ok:1:2")
        await admin.press("r:yes:1:2")
        assert await approved() == 4
        outsider = bot.member(1012, "Khách")
        await outsider.say("/reopen SK-000001 không")
        assert await approved() == 4, "only admins in scope take a decision back"
    finally:
        await db.close()
