"""Weekly commendations: the highlights of the nearest unit, once a week, to everyone."""

from __future__ import annotations

import datetime as dt
import random

from domain.progress import add_phase
from tests.conftest import Clock, StartBot
from tests.fakebotapi import Call, Harness, Member
from tests.scenario import join
from tests.test_progress import PHASE, Database
from tests.test_review import drain, grant, run_job, submit

MONDAY_0805 = dt.datetime(2026, 11, 23, 1, 5, tzinfo=dt.UTC)  # 08:05 in Hà Nội


def commendations(bot: Harness, member: Member) -> list[str]:
    return [c.text for c in bot.api.sent_to(member.id) if "Biểu dương tuần" in c.text]


def cards(bot: Harness, chat_id: int) -> list[Call]:
    return [c for c in bot.api.photos_to(chat_id) if "Thẻ biểu dương" in c.text]


async def approve(admin: Member, number: int) -> None:
    await admin.press(f"r:ok:{number}:1")
    await admin.press(f"r:yes:{number}:1")


async def week_with_highlights(bot: Harness, database_url: str) -> dict[str, Member]:
    """Long Biên's May 10 reaches its target of 3 this week; Thanh Hóa has nothing."""
    db = Database(database_url)
    try:
        await add_phase(db.units_of_work, *PHASE)
        async with db.units_of_work() as uow:
            may10 = await uow.units.by_code("HN-LB-MAY10")
            assert may10 is not None
            await uow.progress.set_targets([(may10.id, 1, 3)], dt.datetime.now(dt.UTC))
            await uow.commit()
    finally:
        await db.close()
    await grant(database_url, "HN-LB-MAY10", 5001)
    await grant(database_url, "HN-LB", 5002)
    people = {
        "an": bot.member(6001, "An"),
        "binh": bot.member(6002, "Bình"),
        "chi": bot.member(6003, "Chi"),
        "dung": bot.member(6004, "Dũng"),
        "admin": bot.member(5001, "Quản trị May 10"),
        "upper": bot.member(5002, "Quản trị Long Biên"),
    }
    await join(people["an"], code="HN-LB-MAY10", name="Nguyễn Văn An")
    await join(people["binh"], code="HN-LB-MAY10", name="Trần Thị Bình")
    await join(people["chi"], code="TH-KCN-ANNORA", name="Lê Thị Chi")
    await join(people["dung"], code="HN-LB-DUCGIANG", name="Phạm Văn Dũng")
    await people["binh"].say("/settings")
    await people["binh"].tap("Không nêu tên tôi")
    assert "khi ở nhóm tích cực nhất: không" in people["binh"].last().text
    await submit(people["an"], "Giá treo cuộn chỉ xoay")
    await submit(people["an"], "Máng hứng dầu máy khâu")
    await submit(people["binh"], "Bàn là hơi tiết kiệm điện")
    for number in (1, 2, 3):
        await approve(people["admin"], number)
    return people


async def test_each_member_hears_their_nearest_units_week_once(
    bot: Harness, database_url: str, clock: Clock
) -> None:
    people = await week_with_highlights(bot, database_url)
    await run_job(bot, "weekly")
    await drain(bot)
    assert not commendations(bot, people["an"]), "Sunday: the week is not over"

    clock.now = MONDAY_0805
    await run_job(bot, "weekly")
    await drain(bot)
    (may10,) = commendations(bot, people["an"])
    assert "CĐCS Công ty May 10" in may10.splitlines()[0]
    assert "16/11/2026–22/11/2026" in may10
    assert "Tuần qua có 3 sáng kiến được duyệt." in may10
    assert "🎯 Đạt chỉ tiêu trong tuần:\n• CĐCS Công ty May 10: 100%" in may10
    assert "• Nguyễn Văn An: 2 sáng kiến" in may10
    assert "Trần Thị Bình" not in may10, "Bình asked not to be named"
    assert "“Bàn là hơi tiết kiệm điện” · CĐCS Công ty May 10 · làm lợi 1,2 triệu đồng" in may10
    assert "3/3 sáng kiến · đạt 100% chỉ tiêu" in may10
    assert commendations(bot, people["binh"]) == [may10]
    (long_bien,) = commendations(bot, people["dung"])
    assert "LĐLĐ quận Long Biên" in long_bien.splitlines()[0], "Đức Giang had no news itself"
    (national,) = commendations(bot, people["chi"])
    assert "Tổng Liên đoàn Lao động Việt Nam" in national.splitlines()[0]

    (card,) = cards(bot, 5001)
    assert "CĐCS Công ty May 10" in card.text
    assert next(iter(card.files.values())).startswith(b"\x89PNG")
    assert len(cards(bot, 5002)) == 1, "Long Biên's admin gets Long Biên's card"

    clock.now += dt.timedelta(minutes=30)
    await run_job(bot, "weekly")
    await drain(bot)
    assert len(commendations(bot, people["an"])) == 1, "once a week, whatever reruns"
    assert len(cards(bot, 5001)) == 1


async def test_late_by_hours_commends_once_late_by_days_not_at_all(
    bot: Harness, database_url: str, clock: Clock, start_bot: StartBot
) -> None:
    people = await week_with_highlights(bot, database_url)
    clock.now = MONDAY_0805 + dt.timedelta(days=2)
    await run_job(bot, "weekly")
    await drain(bot)
    assert not commendations(bot, people["an"]), "two days late: skipped, not sent late"
    clock.now = MONDAY_0805 + dt.timedelta(hours=3)
    second = await start_bot()
    await run_job(second, "weekly")
    await run_job(bot, "weekly")
    await drain(second)
    await drain(bot)
    assert len(commendations(bot, people["an"]) + commendations(second, people["an"])) == 1


async def test_admin_gets_the_card_on_demand(bot: Harness, database_url: str, clock: Clock) -> None:
    people = await week_with_highlights(bot, database_url)
    admin = people["upper"]
    clock.now = MONDAY_0805
    await admin.say("/card")
    last_week = bot.api.photos_to(admin.id)[-1]
    assert "LĐLĐ quận Long Biên" in last_week.text
    assert next(iter(last_week.files.values())).startswith(b"\x89PNG")
    await admin.tap("Tuần này")
    assert len(bot.api.photos_to(admin.id)) == 2
    await admin.say("/card HN-LB-MAY10")
    assert "CĐCS Công ty May 10" in bot.api.photos_to(admin.id)[-1].text
    await admin.say("/card TH-KCN-ANNORA")
    assert "Không có đơn vị mã “TH-KCN-ANNORA”" in admin.last().text
    calls = await people["an"].press(admin.button("Tuần này").replace("now", "last"))
    assert "không thuộc phạm vi" in next(c.text for c in calls if c.method ==
                                         "answerCallbackQuery")  # fmt: skip
    await people["an"].say("/card")
    assert "dành cho quản trị" in people["an"].last().text


async def test_confidential_and_opted_out_never_appear_on_random_data(
    bot: Harness, database_url: str, clock: Clock
) -> None:
    from charts import card_lines
    from domain.model import Initiative, InitiativeStatus, Step
    from domain.model import Member as Person

    chance = random.Random(20261123)
    db = Database(database_url)
    hidden: set[str] = set()
    shown: set[str] = set()
    week = dt.datetime(2026, 11, 15, 17, 0, tzinfo=dt.UTC)  # Monday 16/11 00:00 in Hà Nội
    try:
        await add_phase(db.units_of_work, *PHASE)
        async with db.units_of_work() as uow:
            grassroots = await uow.units.grassroots()
            people = []
            for index in range(60):
                named = chance.random() < 0.6
                name = f"Người{index:03d}{'N' if named else 'X'}"
                person = await uow.members.add(Person(
                    0, "telegram", str(70_000 + index), name, "vi", full_name=name,
                    unit_id=chance.choice(grassroots).id, named=named), week)  # fmt: skip
                people.append(person)
                (shown if named else hidden).add(name)
            for index in range(300):
                author = chance.choice(people)
                confidential = chance.random() < 0.3
                title = f"Đề tài{index:03d}{'M' if confidential else 'C'}"
                at = week + dt.timedelta(minutes=chance.randrange(7 * 24 * 60))
                initiative = await uow.initiatives.add(Initiative(
                    0, author.id, author.id, author.unit_id or 0, InitiativeStatus.APPROVED,
                    at, at, step=Step.SUMMARY, title=title, confidential=confidential,
                    benefit_vnd=chance.randrange(10**10), version=1, phase_id=1))  # fmt: skip
                await uow.initiatives.record(initiative, author.id, "approve", at)
                (hidden if confidential else shown).add(title)
            await uow.commit()
        for code in ("TLD", "HN", "HN-LB-MAY10", "TH-KCN"):
            await grant(database_url, code, 80_000 + len(code))
    finally:
        await db.close()
    clock.now = MONDAY_0805
    commendations = bot.application.bot_data.commendations
    plan = await commendations.plan(commendations._schedule.due(clock.now), clock.now)
    translator = bot.application.bot_data.translator
    on_cards = [text for item in plan.items for _style, text in
                card_lines(item.commendation.card(), translator, "vi")]  # fmt: skip
    await run_job(bot, "weekly")
    await drain(bot)
    sent = [c.text for c in bot.api.calls if c.method in ("sendMessage", "sendPhoto")]
    everything = "\n".join(sent + on_cards)
    leaks = sorted(word for word in hidden if word in everything)
    assert not leaks, f"confidential titles or opted-out names shown: {leaks}"
    assert sum(1 for word in shown if word in everything) >= 10, "the check can see names"
    national = next(i.commendation for i in plan.items if i.commendation.unit.code == "TLD")
    assert national.week_count == 300, "the totals count confidential initiatives too"
