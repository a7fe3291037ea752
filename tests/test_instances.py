"""Three bot processes on one PostgreSQL database behind a round-robin proxy, fed by a
Telegram that redelivers and reorders; the job lease holder dies mid-broadcast."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import Row, func, select

from benchmarks.harness import DIALOG, Person
from bot.serve import build_runtime, serve
from bot.settings import Settings
from bot.web import SECRET_HEADER
from domain.delivery import DeliveryService, OutgoingState
from handlers.telegram.fake import FastFakeBotApi
from storage.db import create_engine
from storage.models import InitiativeRow
from tests.conftest import seed_units
from tests.fakebotapi import TOKEN
from tests.test_delivery import members
from tests.test_webhook import SECRET, URL, free_port

PEOPLE = 150
ANNOUNCEMENT = "📣 Hội thi sáng kiến cấp quận: hạn nộp 30/12."


class Telegram(FastFakeBotApi):
    """One Telegram for the three processes: it counts the announcement per chat."""

    def __init__(self) -> None:
        super().__init__()
        self.announced: Counter[int] = Counter()

    async def do_request(self, url: str, method: str, request_data: Any = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:  # fmt: skip
        if url.endswith("/sendMessage") and request_data is not None:
            params = request_data.parameters
            if params.get("text") == ANNOUNCEMENT:
                self.announced[int(params["chat_id"])] += 1
        return await super().do_request(url, method, request_data, *args, **kwargs)


@dataclass
class Instance:
    runtime: Any
    stop: asyncio.Event
    task: asyncio.Task[None]
    port: int
    alive: bool = True


async def proxy(instances: list[Instance]) -> tuple[web.AppRunner, int]:
    """Round-robin over the instances; a dead one is skipped, as a load balancer does."""
    turn = itertools.count()
    session = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        for _ in range(len(instances)):
            target = instances[next(turn) % len(instances)]
            try:
                address = f"http://127.0.0.1:{target.port}/telegram/updates"
                headers = dict(request.headers)
                async with session.post(address, data=body, headers=headers) as answer:
                    return web.Response(status=answer.status, text=await answer.text())
            except aiohttp.ClientError:
                continue
        return web.Response(status=502)

    app = web.Application()
    app.router.add_post("/telegram/updates", forward)
    app.on_cleanup.append(lambda _app: session.close())
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, port


def start_instances(database_url: str, telegram: Telegram, count: int = 3) -> list[Instance]:
    """Bot processes on one database and one Telegram, each serving its own webhook port."""
    instances: list[Instance] = []
    for _ in range(count):
        port = free_port()
        settings = Settings(telegram_bot_token=TOKEN, database_url=database_url,
                            migrate_on_start=False, webhook_url=URL, webhook_secret=SECRET,
                            http_listen="127.0.0.1", http_port=port,
                            job_lease_seconds=1.5, broadcast_rate=29)  # fmt: skip
        runtime = build_runtime(settings, request=telegram)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(runtime, webhook=True, stop=stop))
        instances.append(Instance(runtime, stop, task, port))
    return instances


async def stop_instances(instances: list[Instance], runner: web.AppRunner) -> None:
    """Stop every instance, whatever it died of, then the proxy."""
    for instance in instances:
        instance.stop.set()
    await asyncio.gather(*(i.task for i in instances), return_exceptions=True)
    await runner.cleanup()


async def lease_holders(instances: list[Instance]) -> list[Instance]:
    """Those holding the job lease, once all have started and one of them holds it."""
    for _ in range(300):
        duties = [i.runtime.duty for i in instances]
        if all(duties) and any(duty.held for duty in duties):
            break
        await asyncio.sleep(0.02)
    return [i for i in instances if i.runtime.duty.held]


def kill(instance: Instance) -> None:
    """The process dies: its lease is lost mid-work and it stops answering HTTP."""
    instance.runtime.duty.kill()
    instance.alive = False
    instance.stop.set()


@dataclass
class Traffic:
    """Telegram's side of the webhook: every step of the dialog through the proxy, some
    delivered twice at once, some again later."""

    telegram: Telegram
    proxy_port: int
    chance: random.Random
    late: list[bytes] = field(default_factory=list)
    refused: Counter[int] = field(default_factory=Counter)

    async def deliver(self, session: aiohttp.ClientSession, body: bytes) -> None:
        """As Telegram does: again and again until the answer is 200."""
        headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
        while True:
            async with session.post(f"http://127.0.0.1:{self.proxy_port}/telegram/updates",
                                    data=body, headers=headers) as answer:  # fmt: skip
                if answer.status == 200:
                    return
                self.refused[answer.status] += 1
            await asyncio.sleep(0.05)

    async def converse(
        self, session: aiohttp.ClientSession, person: Person, gate: asyncio.Semaphore
    ) -> None:
        """One person's whole dialog."""
        async with gate:
            for step in DIALOG:
                body = json.dumps(person.update(step, self.telegram, bare=False)).encode()
                self.telegram.expect(person.id)
                if self.chance.random() < 0.1:  # delivered twice at once, to two instances
                    await asyncio.gather(self.deliver(session, body), self.deliver(session, body))
                else:
                    await self.deliver(session, body)
                if self.chance.random() < 0.1:
                    self.late.append(body)  # delivered again later, after newer updates

    async def deliver_late(self, session: aiohttp.ClientSession) -> None:
        """The updates kept back, again, in any order."""
        self.chance.shuffle(self.late)
        for body in self.late:
            await self.deliver(session, body)


async def talk_while_the_holder_dies(
    traffic: Traffic, people: list[Person], holder: Instance
) -> None:
    """Everyone submits at once; the lease holder dies once the broadcast is under way."""
    gate = asyncio.Semaphore(40)
    async with aiohttp.ClientSession() as session:
        talks = asyncio.gather(*(traffic.converse(session, p, gate) for p in people))
        while sum(traffic.telegram.announced.values()) < 60:  # noqa: ASYNC110 - no event to wait on
            await asyncio.sleep(0.01)
        kill(holder)  # the lease holder dies mid-broadcast and stops answering HTTP
        await talks
        await traffic.deliver_late(session)


async def finished_tally(instance: Instance, broadcast: int) -> dict[OutgoingState, int]:
    """The broadcast's tally once nothing of it is queued or being sent (or time is up)."""
    deliveries: DeliveryService = instance.runtime.deliveries
    for _ in range(600):
        tally = await deliveries.tally(broadcast)
        if not tally[OutgoingState.QUEUED] and not tally[OutgoingState.SENDING]:
            break
        await asyncio.sleep(0.05)
    return tally


async def submissions_per_author(database_url: str) -> Sequence[Row[int, int]]:
    """(author, initiatives) as stored."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return (
                await connection.execute(
                    select(InitiativeRow.entered_by_id, func.count()).group_by(
                        InitiativeRow.entered_by_id
                    )
                )
            ).all()
    finally:
        await engine.dispose()


async def run_the_nudge_job_everywhere(instances: list[Instance]) -> list[int]:
    """Run the nudge job on each instance; the indexes of those where it did its work."""
    ran: list[int] = []
    for index, instance in enumerate(instances):
        upkeep = instance.runtime.graph.upkeep
        assert upkeep is not None
        original = upkeep.nudges_due

        async def counted(original: Any = original, index: int = index) -> int:
            ran.append(index)
            return int(await original())

        upkeep.nudges_due = counted
        await instance.runtime.jobs.run("nudges")
    return ran


async def test_three_instances_share_the_work_and_survive_the_lease_holder(
    database_url: str,
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("several instances share a PostgreSQL database")
    await seed_units(database_url)
    listeners = await members(database_url, 300, first=70_000)
    telegram = Telegram()
    instances = start_instances(database_url, telegram)
    runner, proxy_port = await proxy(instances)
    traffic = Traffic(telegram, proxy_port, random.Random(7))
    try:
        holders = await lease_holders(instances)
        assert len(holders) == 1, "one lease holder"
        (holder,) = holders
        deliveries = holder.runtime.deliveries
        broadcast = await deliveries.broadcast("announce", ANNOUNCEMENT, listeners, None)
        people = [Person(600_000 + n) for n in range(PEOPLE)]
        await talk_while_the_holder_dies(traffic, people, holder)
        # Another instance takes the lease over and finishes the broadcast.
        survivors = [i for i in instances if i.alive]
        tally = await finished_tally(survivors[0], broadcast)
        assert tally[OutgoingState.SENT] == len(listeners), tally
        assert sum(i.runtime.duty.held for i in survivors) == 1
        announced = telegram.announced
        assert set(announced) == {70_000 + n for n in range(300)}, "none is missed"
        repeated = sum(announced.values()) - 300
        assert repeated <= holder.runtime.channel("telegram").sender.slots, (
            "at most the dead holder's messages in flight are sent again"
        )
        assert not telegram.notices, f"a step was handled out of order: {telegram.notices[:3]}"
        rows = await submissions_per_author(database_url)
        assert len(rows) == PEOPLE and all(count == 1 for _, count in rows), (
            "every submission present once"
        )
        # The scheduled jobs run where the lease is, once.
        ran = await run_the_nudge_job_everywhere(survivors)
        assert len(ran) == 1
    finally:
        await stop_instances(instances, runner)
