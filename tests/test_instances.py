"""Three bot processes on one PostgreSQL database behind a round-robin proxy, fed by a
Telegram that redelivers and reorders; the job lease holder dies mid-broadcast."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from benchmarks.dialog import DIALOG, Person
from benchmarks.fakeapi import FastFakeBotApi
from bot.app import build_application
from bot.serve import serve
from bot.settings import Settings
from bot.web import SECRET_HEADER
from domain.delivery import OutgoingState
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
    application: Any
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


async def test_three_instances_share_the_work_and_survive_the_lease_holder(
    database_url: str,
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("several instances share a PostgreSQL database")
    await seed_units(database_url)
    listeners = await members(database_url, 300, first=70_000)
    telegram = Telegram()
    instances: list[Instance] = []
    for _ in range(3):
        port = free_port()
        settings = Settings(telegram_bot_token=TOKEN, database_url=database_url,
                            migrate_on_start=False, webhook_url=URL, webhook_secret=SECRET,
                            http_listen="127.0.0.1", http_port=port,
                            job_lease_seconds=1.5, broadcast_rate=29,
                            # Replies of all three counted together would hold 2.850 updates
                            # to 29 a second (test_lease tests that count); here: the rest.
                            limit_replies=False)  # fmt: skip
        application = build_application(settings, request=telegram)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(application, settings, webhook=True, stop=stop))
        instances.append(Instance(application, stop, task, port))
    runner, proxy_port = await proxy(instances)
    chance = random.Random(7)
    late: list[bytes] = []
    refused = Counter[int]()

    async def deliver(session: aiohttp.ClientSession, body: bytes) -> None:
        """As Telegram does: again and again until the answer is 200."""
        headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
        while True:
            async with session.post(f"http://127.0.0.1:{proxy_port}/telegram/updates",
                                    data=body, headers=headers) as answer:  # fmt: skip
                if answer.status == 200:
                    return
                refused[answer.status] += 1
            await asyncio.sleep(0.05)

    async def converse(
        session: aiohttp.ClientSession, person: Person, gate: asyncio.Semaphore
    ) -> None:
        async with gate:
            for step in DIALOG:
                body = json.dumps(person.update(step, telegram, bare=False)).encode()
                telegram.expect(person.id)
                if chance.random() < 0.1:  # delivered twice at once, to two instances
                    await asyncio.gather(deliver(session, body), deliver(session, body))
                else:
                    await deliver(session, body)
                if chance.random() < 0.1:
                    late.append(body)  # delivered again later, after newer updates

    try:
        for _ in range(300):  # all three started, one of them holding the lease
            duties = [i.application.bot_data.duty for i in instances]
            if all(duties) and any(duty.held for duty in duties):
                break
            await asyncio.sleep(0.02)
        holders = [i for i in instances if i.application.bot_data.duty.held]
        assert len(holders) == 1, "one lease holder"
        (holder,) = holders
        deliveries = holder.application.bot_data.deliveries
        broadcast = await deliveries.broadcast("announce", ANNOUNCEMENT, listeners, None)
        people = [Person(600_000 + n) for n in range(PEOPLE)]
        gate = asyncio.Semaphore(40)
        async with aiohttp.ClientSession() as session:
            talks = asyncio.gather(*(converse(session, p, gate) for p in people))
            while sum(telegram.announced.values()) < 60:  # noqa: ASYNC110 - no event to wait on
                await asyncio.sleep(0.01)
            holder.application.bot_data.duty.kill()  # the lease holder dies mid-broadcast...
            holder.alive = False
            holder.stop.set()  # ...and stops answering HTTP
            await talks
            chance.shuffle(late)
            for body in late:
                await deliver(session, body)
        # Another instance takes the lease over and finishes the broadcast.
        survivors = [i for i in instances if i.alive]
        for _ in range(600):
            tally = await survivors[0].application.bot_data.deliveries.tally(broadcast)
            if not tally[OutgoingState.QUEUED] and not tally[OutgoingState.SENDING]:
                break
            await asyncio.sleep(0.05)
        assert tally[OutgoingState.SENT] == len(listeners), tally
        assert sum(i.application.bot_data.duty.held for i in survivors) == 1
        announced = telegram.announced
        assert set(announced) == {70_000 + n for n in range(300)}, "none is missed"
        repeated = sum(announced.values()) - 300
        assert repeated <= holder.application.bot_data.sender.slots, (
            "at most the dead holder's messages in flight are sent again"
        )
        assert not telegram.notices, f"a step was handled out of order: {telegram.notices[:3]}"
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                rows = (
                    await connection.execute(
                        select(InitiativeRow.entered_by_id, func.count()).group_by(
                            InitiativeRow.entered_by_id
                        )
                    )
                ).all()
        finally:
            await engine.dispose()
        assert len(rows) == PEOPLE and all(count == 1 for _, count in rows), (
            "every submission present once"
        )
        # The scheduled jobs run where the lease is, once.
        ran: list[int] = []
        for index, instance in enumerate(survivors):
            service = instance.application.bot_data.service
            original = service.nudges_due

            async def counted(original: Any = original, index: int = index) -> list[Any]:
                ran.append(index)
                return list(await original())

            service.nudges_due = counted
            (job,) = instance.application.job_queue.get_jobs_by_name("nudges")
            await job.run(instance.application)
        assert len(ran) == 1
    finally:
        for instance in instances:
            instance.stop.set()
        await asyncio.gather(*(i.task for i in instances), return_exceptions=True)
        await runner.cleanup()
