"""/stats and /top: the programme's own figures, rendered the Vietnamese way."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import insert, select

from domain.model import RoleKind
from domain.progress import add_phase
from storage.models import InitiativeRow, MemberRow, TargetRow, UnitRow
from tests.conftest import Clock, run_in_thread
from tests.fakebotapi import Harness
from tests.scenario import join
from tests.test_progress import Database
from tests.test_review import grant

NOW = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)


async def seed(database_url: str) -> None:
    """Phase 1 as the articles tell it: Nghệ An 13.386 approved against a target of 3.000.

    Written from another thread while the bot's loop waits: on SQLite a transaction of
    this loop's own would hold the file's lock across awaits, which the bot's inline
    statements cannot wait out."""
    run_in_thread(lambda: _seed(database_url))


async def _seed(database_url: str) -> None:
    db = Database(database_url)
    try:
        phase = await add_phase(db.units_of_work, "GD1", "Giai đoạn 1", dt.date(2026, 1, 1),
                                dt.date(2026, 12, 31), 300_000)  # fmt: skip
        async with db.engine.begin() as connection:
            ids = {code: id_ for id_, code in await connection.execute(
                select(UnitRow.id, UnitRow.code))}  # fmt: skip
            author = (await connection.execute(insert(MemberRow).values(
                channel="proxy", external_id="seed", display_name="Seed", language="vi",
                full_name="Seed", unit_id=ids["NA-VINH-BVHN"], created_at=NOW, updated_at=NOW,
            ).returning(MemberRow.id))).scalar_one()  # fmt: skip
            targets = {"NA": 3_000, "TH": 31_035, "HN": 52_000, "HT": 9_000,
                       "NA-VINH": 2_000, "NA-VINH-BVHN": 1_000, "HN-LB-MAY10": 40}  # fmt: skip
            await connection.execute(insert(TargetRow), [
                {"unit_id": ids[c], "phase_id": phase.id, "target": t, "updated_at": NOW}
                for c, t in targets.items()])  # fmt: skip
            rows = [("NA-VINH-BVHN", 13_386), ("TH-KCN-ANNORA", 31_035), ("HN-LB-MAY10", 30)]
            for code, count in rows:
                await connection.execute(insert(InitiativeRow), [
                    {"author_id": author, "entered_by_id": author, "unit_id": ids[code],
                     "status": "approved", "step": "summary", "editing": False,
                     "coauthors_done": True, "version": 1, "phase_id": phase.id,
                     "benefit_vnd": 10_000_000, "created_at": NOW, "updated_at": NOW,
                     "submitted_at": NOW, "title": "x"}
                    for _ in range(count)])  # fmt: skip
        async with db.units_of_work() as uow:
            await uow.progress.rebuild_counts()
            await uow.commit()
    finally:
        await db.close()


async def test_seed_figures_rendered(bot: Harness, database_url: str) -> None:
    await seed(database_url)
    await grant(database_url, "NA", 3001)
    admin = bot.member(3001, "Nghệ An")
    await admin.say("/stats")
    text = admin.last().text
    assert "LĐLĐ tỉnh Nghệ An: 13.386/3.000 sáng kiến · đạt 446,2%" in text, text
    assert "còn 40 ngày" in text and "01/01/2026" in text and "31/12/2026" in text
    assert "133,9 tỷ đồng" in text, "13.386 × 10 triệu"
    assert "· hạng 1/7" in text, "first of the 7 units under the national union"


async def test_member_sees_the_path_with_ranks(bot: Harness, database_url: str) -> None:
    await seed(database_url)
    worker = bot.member(3002, "Lan")
    await join(worker)
    await worker.say("/stats")
    lines = worker.last().text.splitlines()
    assert lines[1].startswith("CĐCS Công ty May 10: 30/40 sáng kiến · đạt 75%")
    assert lines[2].startswith("LĐLĐ quận Long Biên: 30 sáng kiến (chưa có chỉ tiêu)")
    assert lines[3].startswith("LĐLĐ TP Hà Nội: 30/52.000 sáng kiến · đạt 0,1%")
    assert "Tổng Liên đoàn" in lines[4]


async def test_admin_drills_down_within_scope_only(bot: Harness, database_url: str) -> None:
    await seed(database_url)
    await grant(database_url, "TLD", 3003)
    national = bot.member(3003, "Tổng")
    await national.say("/stats")
    text = national.last().text
    assert text.index("Nghệ An") < text.index("Thanh Hóa") < text.index("Hà Tĩnh")
    await national.tap("LĐLĐ tỉnh Nghệ An")
    assert "LĐLĐ TP Vinh: 13.386/2.000" in national.last().text
    await national.tap("Lên một cấp")
    assert "Tổng Liên đoàn" in national.last().text.splitlines()[1]
    await grant(database_url, "HN", 3004)
    hanoi = bot.member(3004, "Hà Nội")
    calls = await hanoi.press(national.button("LĐLĐ tỉnh Nghệ An"))
    assert next(c.text for c in calls if c.method == "answerCallbackQuery")


async def test_top_ranks_by_percent_and_by_count(bot: Harness, database_url: str) -> None:
    await seed(database_url)
    await grant(database_url, "HN", 3005, kind=RoleKind.ADMIN)
    admin = bot.member(3005, "Hà Nội")
    await admin.say("/top")
    text = admin.last().text
    by_percent, by_count = text.split("🏅")
    assert by_percent.index("Nghệ An") < by_percent.index("Thanh Hóa")
    assert by_count.index("Thanh Hóa") < by_count.index("Nghệ An")
    assert "LĐLĐ TP Hà Nội: 30/52.000 sáng kiến · đạt 0,1% ◀️" in text


async def test_admin_sets_targets_of_the_units_below(bot: Harness, database_url: str) -> None:
    await seed(database_url)
    await grant(database_url, "HN-LB", 3006)
    admin = bot.member(3006, "Long Biên")
    await admin.say("/targets")
    assert "HN-LB-MAY10 · CĐCS Công ty May 10: 40" in admin.last().text
    await admin.say("HN-LB-MAY10 60\nHN-HM-HVT 10")
    assert "HN-HM-HVT" in admin.last().text, "not a unit below Long Biên: all or nothing"
    await admin.say("hn-lb-may10 1.000\nHN-LB-MAY10 abc")
    assert "abc" in admin.last().text
    worker = bot.member(3007, "Lan")
    await join(worker)
    await worker.say("/stats")
    assert "CĐCS Công ty May 10: 30/40 sáng kiến" in worker.last().text, "nothing was saved"
    await admin.say("HN-LB-MAY10 60")
    assert "Đã lưu 1 chỉ tiêu" in admin.last().text
    await admin.say("/cancel")
    await worker.say("/stats")
    assert "CĐCS Công ty May 10: 30/60 sáng kiến · đạt 50%" in worker.last().text
    await worker.say("/targets")
    assert "quản trị" in worker.last().text


async def test_top_within_the_emulation_group(bot: Harness, database_url: str) -> None:
    from pathlib import Path

    from bot.__main__ import main

    await seed(database_url)
    groups = Path(__file__).resolve().parent.parent / "examples" / "groups.csv"
    assert await asyncio.to_thread(main, ["--database-url", database_url, "groups", "import",
                                          str(groups)]) == 0  # fmt: skip
    worker = bot.member(3008, "Lan")
    await join(worker)
    await worker.say("/top")
    text = worker.last().text
    assert "🤝 Trong Cụm thi đua doanh nghiệp Hà Nội:" in text
    group_part = text.split("🤝")[1]
    assert group_part.index("CĐCS Công ty May 10") < group_part.index("Đức Giang")
    assert "CĐCS Công ty May 10: 30/40 sáng kiến · đạt 75% ◀️" in group_part
    await grant(database_url, "NA", 3009)
    nghe_an = bot.member(3009, "Nghệ An")
    await nghe_an.say("/top")
    assert "Khối thi đua các tỉnh Bắc Trung Bộ" in nghe_an.last().text


async def _two_phases(database_url: str) -> None:
    db = Database(database_url)
    try:
        await add_phase(db.units_of_work, "GD1", "Giai đoạn 1", dt.date(2026, 1, 1),
                        dt.date(2026, 6, 30), 300_000)  # fmt: skip
        await add_phase(db.units_of_work, "GD2", "Giai đoạn 2", dt.date(2026, 7, 1),
                        dt.date(2026, 12, 31), 700_000)  # fmt: skip
    finally:
        await db.close()


async def test_stats_says_why_it_counts_fewer_waiting_than_pending(
    bot: Harness, database_url: str, clock: Clock
) -> None:
    from tests.test_review import setup, submit

    run_in_thread(lambda: _two_phases(database_url))
    worker, a, b, _upper = await setup(bot, database_url)
    await b.say("/lang")
    await b.tap("English")
    # Before any phase, in phase 1, and in phase 2 (today's).
    for day, title in (
        (dt.datetime(2025, 12, 20, 2, tzinfo=dt.UTC), "Trước mọi giai đoạn"),
        (dt.datetime(2026, 6, 20, 2, tzinfo=dt.UTC), "Trong giai đoạn 1"),
        (dt.datetime(2026, 11, 22, 2, tzinfo=dt.UTC), "Trong giai đoạn 2"),
    ):
        clock.now = day
        await submit(worker, title=title)  # fmt: skip
    await a.say("/pending")
    assert "Chờ duyệt trong đơn vị của bạn: 3" in a.last().text
    await a.say("/stats")
    stats = a.last().text
    assert "Giai đoạn 2" in stats and "chờ duyệt: 1 ·" in stats, stats
    assert "⏳ Chờ duyệt: 1 trong giai đoạn này (tổng cộng 3 đang chờ" in stats, stats
    assert "xem /pending" in stats
    await b.say("/stats")
    assert "⏳ Awaiting review: 1 in this phase (3 waiting in all" in b.last().text, b.last().text

    for initiative in (1, 2):
        await a.press(f"r:ok:{initiative}:1")
        await a.tap("Xác nhận")
    await a.say("/pending")
    assert "Chờ duyệt trong đơn vị của bạn: 1" in a.last().text
    await a.say("/stats")
    stats = a.last().text
    assert "chờ duyệt: 1 ·" in stats and "tổng cộng" not in stats, "they agree: nothing to add"
