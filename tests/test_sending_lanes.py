"""Replies and notifications never wait behind a broadcast; bulk keeps to its budget."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from telegram.error import RetryAfter

from domain.delivery import BroadcastExtras, OutgoingState
from handlers.telegram.budget import BudgetLimiter, SendBudget
from tests.conftest import StartBot
from tests.fakebotapi import FakeBotApi
from tests.test_budget import FakeTime, most_in_one_second
from tests.test_delivery import TEXT, finished, members, received

NOTICE = "🔔 Sáng kiến SK-0001 của bạn đã được duyệt."


async def test_a_reply_during_a_full_second_of_broadcast_goes_at_once() -> None:
    time_ = FakeTime()
    budget = SendBudget(29, time_.clock, time_.sleep)
    for _ in range(29):  # the broadcast has taken this second's whole budget
        await budget.take()
    limiter = BudgetLimiter(budget)
    started = time_.now

    async def send(*_args: Any) -> dict[str, Any]:
        return {"ok": True}

    for _ in range(10):  # ten members' answers in the same second
        await limiter.process_request(send, (), {}, "sendMessage", {}, None)
    assert time_.now == started, "no reply waited for the bulk budget"


async def test_a_reply_refused_with_retry_after_waits_as_asked() -> None:
    time_ = FakeTime()
    limiter = BudgetLimiter(SendBudget(29, time_.clock, time_.sleep))
    tries: list[float] = []

    async def send(*_args: Any) -> dict[str, Any]:
        tries.append(time_.now)
        if len(tries) == 1:
            raise RetryAfter(3)
        return {"ok": True}

    await limiter.process_request(send, (), {}, "sendMessage", {}, None)
    assert tries[1] - tries[0] == 3


async def test_a_burst_of_replies_is_not_capped_at_the_bulk_rate(
    start_bot: StartBot, database_url: str
) -> None:
    ids = await members(database_url, 60)
    api = FakeBotApi(per_second=30)  # Telegram refuses bulk beyond 30 a second
    bot = await start_bot(api)
    broadcast = await bot.application.bot_data.deliveries.broadcast("announce", TEXT, ids, None)
    people = [bot.member(9000 + index, f"Người {index}") for index in range(40)]
    for person in people:  # forty members write at the same moment
        api.wrote(person.id)
        await bot.put(person.text_update("/start"))
    await bot.settle()
    assert all(api.sent_to(person.id) for person in people), "everyone was answered"
    messages = sorted(call.at for call in api.calls if call.method == "sendMessage")
    assert most_in_one_second(messages) > 30, "replies came on top of the bulk budget"
    tally = await finished(bot, broadcast)
    assert tally[OutgoingState.SENT] == 60
    assert api.too_many == 0, "the bulk messages kept to 30 a second; replies are not bulk"


async def test_a_notification_goes_before_the_broadcast_queued_earlier(
    start_bot: StartBot, database_url: str
) -> None:
    ids = await members(database_url, 80)
    author = (await members(database_url, 1, first=60_000))[0]
    api = FakeBotApi()
    bot = await start_bot(api, broadcast_rate=4)  # a slow broadcast: 20 s for 80 members
    deliveries = bot.application.bot_data.deliveries
    broadcast = await deliveries.broadcast("announce", TEXT, ids, None)
    while sum(received(api).values()) < 3:  # noqa: ASYNC110 - the fake has no event
        await asyncio.sleep(0.01)
    queued = time.perf_counter()
    await deliveries.broadcast("notice", NOTICE, [author], None, BroadcastExtras(urgent=True))
    bot.application.bot_data.sender.wake()
    for _ in range(200):
        notified = [c for c in api.sent_to(60_000) if c.text == NOTICE]
        if notified:
            break
        await asyncio.sleep(0.01)
    assert notified, "the notification went out"
    assert notified[0].at - queued < 0.5, "it did not wait behind the broadcast"
    under_way = await deliveries.tally(broadcast)
    assert under_way[OutgoingState.QUEUED] > 40, "the broadcast was still going"


async def test_a_paid_broadcast_goes_past_the_free_pace_within_the_paid_limits(
    start_bot: StartBot, database_url: str
) -> None:
    ids = await members(database_url, 300)
    api = FakeBotApi(per_second=30)  # 30 a second free, and 1.000 in all with paid ones
    api.limits.paid_per_second = 1000
    api.star_balance = 1000
    bot = await start_bot(api, paid_broadcast=True, paid_broadcast_daily_stars=100)
    began = time.monotonic()
    broadcast = await bot.application.bot_data.deliveries.broadcast("announce", TEXT, ids, None)
    tally = await finished(bot, broadcast)
    took = time.monotonic() - began
    assert tally[OutgoingState.SENT] == 300
    assert took < 5, f"faster than 10 s at the free pace: {took:.1f} s"
    assert api.too_many == 0
    assert set(received(api).values()) == {1}
