"""The job lease: one process at a time runs the jobs and the sender; another takes over
when it dies."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter

import pytest

from domain.delivery import OutgoingState
from handlers.telegram.budget import SendBudget, Shared
from storage.db import create_engine
from storage.lease import Lease, SendCount
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import StartBot
from tests.fakebotapi import FakeBotApi
from tests.test_delivery import TEXT, finished, members, received

TTL = dt.timedelta(seconds=30)


async def test_one_holder_until_it_lapses_or_lets_go(database_url: str) -> None:
    now = dt.datetime(2026, 12, 4, 1, 0, tzinfo=dt.UTC)

    def clock() -> dt.datetime:
        return now

    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        first = Lease(units_of_work, "jobs", "host-a:1", TTL, clock)
        second = Lease(units_of_work, "jobs", "host-b:2", TTL, clock)
        assert await first.acquire()
        assert not await second.acquire(), "held by the first"
        now += dt.timedelta(seconds=20)
        assert await first.acquire(), "renewed"
        now += dt.timedelta(seconds=29)
        assert not await second.acquire(), "the renewal counts from when it was made"
        assert await second.current() == "host-a:1"
        now += dt.timedelta(seconds=2)
        assert await second.acquire(), "lapsed: taken over"
        assert not await first.acquire(), "the old holder cannot take it back"
        await first.release()  # not its own any more: changes nothing
        assert await first.current() == "host-b:2"
        await second.release()
        assert await first.current() is None
        assert await first.acquire(), "let go: taken at once"
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def test_a_clean_stop_no_longer_counts_as_a_live_process(database_url: str) -> None:
    now = dt.datetime(2026, 12, 4, 1, 0, tzinfo=dt.UTC)
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        first = Lease(units_of_work, "jobs", "host-a:1", TTL, lambda: now)
        second = Lease(units_of_work, "jobs", "host-b:2", TTL, lambda: now)
        assert await first.processes() == 1
        assert await second.processes() == 2
        await first.release()  # never held the job lease: still leaves the live ones
        assert await second.processes() == 1, "the stopped process takes no share"
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def test_two_processes_race_for_a_free_lease_and_one_wins(database_url: str) -> None:
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        rivals = [Lease(units_of_work, "jobs", f"host-{n}:1", TTL, lambda: dt.datetime.now(dt.UTC))
                  for n in range(5)]  # fmt: skip
        won = await asyncio.gather(*(lease.acquire() for lease in rivals))
        assert sum(won) == 1
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def test_the_sender_moves_to_another_process_when_its_holder_dies(
    start_bot: StartBot, database_url: str
) -> None:
    ids = await members(database_url, 40)
    apis = [FakeBotApi(per_second=10), FakeBotApi(per_second=10)]
    first = await start_bot(apis[0])
    second = await start_bot(apis[1])
    assert first.application.bot_data.duty.held
    assert not second.application.bot_data.duty.held, "one holder at a time"
    deliveries = first.application.bot_data.deliveries
    broadcast = await deliveries.broadcast("announce", TEXT, ids, None)
    while sum(received(apis[0]).values()) < 10:  # noqa: ASYNC110 - the fake has no event
        await asyncio.sleep(0.01)
    assert not received(apis[1]), "the second process does not send while the first holds"
    first.application.bot_data.duty.kill()  # the holder dies mid-broadcast
    started = asyncio.get_running_loop().time()
    while not received(apis[1]):  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    took = asyncio.get_running_loop().time() - started
    assert took < 1.5 + 1.0, f"taken over within the lease's time ({took:.1f} s)"
    tally = await finished(second, broadcast)
    assert tally[OutgoingState.SENT] == 40
    both = received(apis[0]) + received(apis[1])
    assert set(both) == {50_000 + i for i in range(40)}, "none is missed"
    assert sum(both.values()) - 40 <= first.application.bot_data.sender.slots


async def test_one_members_transactions_wait_for_each_other_across_processes(
    database_url: str,
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one process and one writer")
    engines = [create_engine(database_url) for _ in range(2)]  # two processes
    factories = [SqlUnitOfWorkFactory(engine) for engine in engines]
    try:
        async with factories[0]() as first:
            await first.members.serialize("telegram", "501")
            async with factories[1]() as other:
                await asyncio.wait_for(other.members.serialize("telegram", "502"), 2)
            async with factories[1]() as second:
                waiting = asyncio.create_task(second.members.serialize("telegram", "501"))
                await asyncio.sleep(0.3)
                assert not waiting.done(), "the same member waits for the first transaction"
                await first.commit()
                await asyncio.wait_for(waiting, 2)
    finally:
        for factory, engine in zip(factories, engines, strict=True):
            factory.dispose()
            await engine.dispose()


async def test_the_notifications_of_two_processes_together_keep_to_the_limit(
    database_url: str,
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one process")
    engines = [create_engine(database_url) for _ in range(2)]
    factories = [SqlUnitOfWorkFactory(engine) for engine in engines]
    sent: list[float] = []  # the wall-clock time each message was counted at

    def counted(factory: SqlUnitOfWorkFactory) -> Shared:
        read: list[float] = []

        def wall() -> float:
            read.append(time.time())
            return read[-1]

        count = SendCount(factory, wall, processes=2)

        async def claim(cap: int) -> float | None:
            wait = await count.claim(cap)
            if wait is None:
                sent.append(read[-1])
            return wait

        return claim

    async def notifications(budget: SendBudget, count: int) -> None:
        for _ in range(count):
            await budget.spend()

    try:
        budgets = [SendBudget(29, shared=counted(factory)) for factory in factories]
        await asyncio.gather(*(notifications(budget, 40) for budget in budgets))
    finally:
        for factory, engine in zip(factories, engines, strict=True):
            factory.dispose()
            await engine.dispose()
    per_second = Counter(int(at) for at in sent)
    assert len(sent) == 80
    assert max(per_second.values()) <= 29, per_second
    assert len(per_second) >= 3, "80 messages need at least three seconds"
