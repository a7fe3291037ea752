"""Nudges with a controlled clock: drafts, milestones, lagging units, quiet hours, caps."""

from __future__ import annotations

import datetime as dt

from tests.conftest import Clock, StartBot
from tests.fakebotapi import Harness, Member
from tests.scenario import join
from tests.test_review import drain, grant, run_job
from tests.test_stats import seed

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


async def run_nudges(bot: Harness) -> None:
    """Run the hourly nudge job and wait for what it queued."""
    await run_job(bot, "nudges")
    await drain(bot)


def nudges(bot: Harness, member: Member, mark: str) -> list[str]:
    return [c.text for c in bot.api.sent_to(member.id) if mark in c.text]


async def start_draft(worker: Member, title: str) -> None:
    await worker.say("/new")
    if any("Bắt đầu mới" in label for label, _ in worker.last().buttons):
        await worker.tap("Bắt đầu mới")
    await worker.say(title)


async def test_a_stale_draft_is_nudged_twice_then_never(
    bot: Harness, clock: Clock, start_bot: StartBot
) -> None:
    worker = bot.member(4001, "Lan")
    await join(worker)
    await start_draft(worker, "Máy cắt vải tự động")
    clock.now += 23 * HOUR
    await run_nudges(bot)
    assert not nudges(bot, worker, "chưa gửi"), "not before 24 hours"
    clock.now += 2 * HOUR
    await run_nudges(bot)
    (first,) = nudges(bot, worker, "chưa gửi")
    assert "Máy cắt vải tự động" in first and "SK-000001" in first
    assert any("Tiếp tục" in label for label, _ in worker.last().buttons)
    again = await start_bot()
    await run_nudges(again)
    await run_nudges(bot)
    assert len(nudges(bot, worker, "chưa gửi")) == 1 and not again.api.sent_to(worker.id)
    clock.now += 2 * DAY
    await run_nudges(bot)
    assert not nudges(bot, worker, "vẫn đang chờ"), "the second waits 3 days"
    clock.now += DAY + HOUR
    await run_nudges(bot)
    assert len(nudges(bot, worker, "vẫn đang chờ")) == 1
    clock.now += 10 * DAY
    await run_nudges(bot)
    assert len(nudges(bot, worker, "vẫn đang chờ")) == 1, "then none"
    await worker.tap("Tiếp tục")
    assert "Câu hỏi 2/11" in worker.last().text


async def test_quiet_hours_daily_cap_and_opt_out(bot: Harness, clock: Clock) -> None:
    worker = bot.member(4002, "Hùng")
    await join(worker)
    await start_draft(worker, "Thứ nhất")
    await start_draft(worker, "Thứ hai")
    clock.now = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)  # 22:00 in Hà Nội
    await run_nudges(bot)
    assert not nudges(bot, worker, "chưa gửi"), "quiet at night"
    clock.now += 9 * HOUR + dt.timedelta(minutes=30)  # 07:30
    await run_nudges(bot)
    clock.now += 3 * HOUR
    await run_nudges(bot)
    assert len(nudges(bot, worker, "chưa gửi")) == 1, "one nudge a day"
    await worker.say("/settings")
    assert "đang bật" in worker.last().text
    await worker.tap("Tắt nhắc việc")
    assert "đang tắt" in worker.last().text
    clock.now += DAY
    await run_nudges(bot)
    assert len(nudges(bot, worker, "chưa gửi")) == 1, "no nudges when turned off"
    await worker.say("/settings")
    await worker.tap("Bật nhắc việc")
    await run_nudges(bot)
    assert len(nudges(bot, worker, "chưa gửi")) == 2, "the other draft, the next day"


async def test_milestones_once_for_the_unit_and_the_programme(
    bot: Harness, database_url: str, clock: Clock
) -> None:
    await seed(database_url)
    hanoi, vinh = bot.member(4003, "Lan"), bot.member(4004, "Hoa")
    await join(hanoi)
    await join(vinh, code="NA-VINH-BVHN", name="Trần Thị Hoa")
    await run_nudges(bot)
    assert any("CĐCS Công ty May 10 đã đạt 50%" in t for t in nudges(bot, hanoi, "🎉")), (
        bot.api.sent_to(hanoi.id)[-2:]
    )
    assert any("Nghệ An đã đạt" in t or "TP Vinh đã đạt" in t or "Bệnh viện" in t
               for t in nudges(bot, vinh, "🎉"))  # fmt: skip
    for _ in range(10):
        clock.now += DAY
        await run_nudges(bot)
    hanoi_news = nudges(bot, hanoi, "🎉")
    assert len(hanoi_news) == len(set(hanoi_news)), "never twice"
    assert any("Chương trình đã vượt 10%" in t for t in hanoi_news), "44.451 of 300.000"
    assert not any("100%" in t and "May 10" in t for t in hanoi_news), "30 of 40 is not 100%"


async def test_lagging_units_hear_it_on_monday(
    bot: Harness, database_url: str, clock: Clock
) -> None:
    await seed(database_url)
    await grant(database_url, "HN", 4005)
    admin = bot.member(4005, "Hà Nội")
    await admin.say("/start")
    clock.now = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)  # Sunday
    await run_nudges(bot)
    assert not nudges(bot, admin, "📉")
    clock.now += DAY  # Monday
    await run_nudges(bot)
    (lagging,) = nudges(bot, admin, "📉")
    assert "LĐLĐ TP Hà Nội" in lagging and "30/52.000" in lagging
    assert "mỗi tuần" in lagging and "6 tuần" in lagging
    clock.now += HOUR
    await run_nudges(bot)
    assert len(nudges(bot, admin, "📉")) == 1, "once a week"
