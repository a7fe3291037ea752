"""The delivery queue: Telegram's limits, blocked members, and resuming after a crash."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

from domain.delivery import OutgoingState
from domain.model import Member
from storage.db import create_engine
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import StartBot
from tests.fakebotapi import FakeBotApi, Harness

TEXT = "📣 Thông báo: hạn nộp sáng kiến giai đoạn 2 là 30/09/2023."


async def members(database_url: str, count: int, first: int = 50_000) -> list[int]:
    """Members who talked to the bot, by id."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    now = dt.datetime.now(dt.UTC)
    try:
        async with units_of_work() as uow:
            ids = []
            for index in range(count):
                member = await uow.members.add(
                    Member(0, "telegram", str(first + index), f"Đoàn viên {index}", "vi"), now
                )
                ids.append(member.id)
            await uow.commit()
        return ids
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def finished(
    bot: Harness, broadcast_id: int, timeout: float = 30.0
) -> dict[OutgoingState, int]:
    """Wait until nothing of the broadcast is queued or being sent."""
    deliveries = bot.application.bot_data.deliveries
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        tally = await deliveries.tally(broadcast_id)
        if not tally[OutgoingState.QUEUED] and not tally[OutgoingState.SENDING]:
            return tally
        assert asyncio.get_running_loop().time() < deadline, tally
        await asyncio.sleep(0.1)


def received(api: FakeBotApi) -> Counter[int]:
    return Counter(int(c.params["chat_id"]) for c in api.calls
                   if c.method == "sendMessage" and c.params.get("text") == TEXT)  # fmt: skip


async def test_everyone_once_and_the_blocked_counted(
    start_bot: StartBot, database_url: str
) -> None:
    ids = await members(database_url, 40)
    api = FakeBotApi()
    api.blocked = {50_003, 50_017, 50_029}
    bot = await start_bot(api)
    deliveries = bot.application.bot_data.deliveries
    broadcast = await deliveries.broadcast("announce", TEXT, ids, None)
    tally = await finished(bot, broadcast)
    assert tally[OutgoingState.SENT] == 37 and tally[OutgoingState.BLOCKED] == 3
    counts = received(api)
    assert set(counts.values()) == {1} and len(counts) == 37
    again = await deliveries.broadcast("announce", TEXT, ids, None)
    assert sum((await finished(bot, again)).values()) == 37, "the blocked are skipped from now"


async def test_too_many_requests_are_waited_out(start_bot: StartBot, database_url: str) -> None:
    ids = await members(database_url, 15)
    api = FakeBotApi(per_second=5)
    bot = await start_bot(api)
    broadcast = await bot.application.bot_data.deliveries.broadcast("announce", TEXT, ids, None)
    tally = await finished(bot, broadcast)
    assert tally[OutgoingState.SENT] == 15
    assert api.too_many > 0, "the fake did push back"
    assert set(received(api).values()) == {1}


async def test_a_crash_mid_broadcast_resumes_without_misses(
    start_bot: StartBot, database_url: str
) -> None:
    ids = await members(database_url, 30)
    first_api = FakeBotApi()
    first = await start_bot(first_api)
    broadcast = await first.application.bot_data.deliveries.broadcast("announce", TEXT, ids, None)
    while sum(received(first_api).values()) < 8:  # noqa: ASYNC110 - the fake has no event
        await asyncio.sleep(0.02)
    first.application.bot_data.sender.kill()
    await asyncio.sleep(0)
    second_api = FakeBotApi()
    second = await start_bot(second_api)
    tally = await finished(second, broadcast)
    assert tally[OutgoingState.SENT] == 30
    both = received(first_api) + received(second_api)
    assert set(both) == {50_000 + i for i in range(30)}, "none is missed"
    assert sum(both.values()) - 30 <= 1, "at most the one message in flight twice"
