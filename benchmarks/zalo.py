"""The dialog benchmark's Zalo side: the bot long-polling a fake Zalo Bot API over HTTP.

``ZaloBot`` (used by ``benchmarks.dialog``) starts the bot as ``python -m bot run`` does
with only its Zalo channel on (``bot.serve.build_runtime``, then polling), against the
fake Zalo Bot API (``handlers.zalo.fake``) served on 127.0.0.1 in the same process, as
Telegram's phases run the bot beside their fake Bot API.  The fake gives one event a
getUpdates call, as Zalo does.  A step is typed as a member's message: queued at the
fake, taken by the bot's getUpdates, done when the poller has handled it (its answers
sent); latency is from queueing to that moment.

The fake is served by ``handlers.zalo.fake_lean``, not by aiohttp's server: that cost
the fake about as much a request as the bot's whole HTTP client did, work the figures
would have counted as the bot's.  Serving the fake from a process of its own was slower
still on the 2-core development machine, where every request then wakes another process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from benchmarks.harness import DialogError, Person, Step
from bot.runtime import Runtime
from bot.serve import build_runtime
from bot.settings import Settings
from bot.zalo import ZaloSide
from handlers.zalo.api import ZaloEvent
from handlers.zalo.fake import FakeZaloApi
from handlers.zalo.fake_lean import LeanServer

# Loggers whose errors count as the bot's: a failed event, a failed send, a failed job.
WATCHED = ("handlers", "bot")


class ErrorCount(logging.Handler):
    """Counts the errors logged, and keeps the first few."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Count one error."""
        self.count += 1
        if len(self.first) < 3:
            self.first.append(f"{record.name}: {record.getMessage()}"[:300])


def settings_for(database_url: str, fake: FakeZaloApi, base_url: str, **more: Any) -> Settings:
    """The bot with only its Zalo channel, polling the fake at ``base_url``."""
    return Settings(
        zalo_bot_token=fake.token,
        zalo_api_base_url=base_url,
        database_url=database_url,
        migrate_on_start=False,
        **more,
    )


class ZaloBot:
    """The fake Zalo Bot API, the bot polling it, and members typing to it.

    ``send(person, step)`` has the shape of ``benchmarks.harness.Driver.send``, so the
    same loops drive it; a button step is typed as the number of its choice, read from
    the answer the bot sent to the member's previous step.
    """

    def __init__(self, database_url: str, **settings: Any) -> None:
        self.database_url = database_url
        self.fake = FakeZaloApi()
        self.server = LeanServer(self.fake)
        self.updates = 0
        self.errors = ErrorCount()
        self._settings = settings
        self._runtime: Runtime | None = None
        self._done: dict[str, asyncio.Future[float]] = {}
        # The texts the bot answered each member's last step with.
        self._answers: dict[int, list[str]] = {}

    async def __aenter__(self) -> ZaloBot:
        await self.server.start()
        for name in WATCHED:
            logging.getLogger(name).addHandler(self.errors)
        try:
            base_url = self.server.base_url
            settings = settings_for(self.database_url, self.fake, base_url, **self._settings)
            self._runtime = build_runtime(settings)
            side = self._runtime.channel("zalo")
            assert isinstance(side, ZaloSide)
            self._watch(side)
            await self._runtime.start()
            await self._runtime.receive(webhook=False)
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _watch(self, side: ZaloSide) -> None:
        """Be told of each event the poller finished, after the bot's own metrics."""
        poller = side.channel.poller
        chained = poller.on_handled

        def handled(event: ZaloEvent, seconds: float) -> None:
            if chained is not None:
                chained(event, seconds)
            waiter = self._done.pop(event.message_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(time.perf_counter())

        poller.on_handled = handled

    def problems(self) -> tuple[int, int, list[str]]:
        """Errors the bot logged (Zalo has no notices apart from texts), the first ones."""
        return self.errors.count, 0, self.errors.first

    async def send(self, person: Person, step: Step) -> tuple[float, float]:
        """Queue the step's message at the fake; (queued, handled)."""
        chat = str(person.id)
        text = step.text if step.text is not None else self._number(person, step)
        message_id = f"bench-{person.id}-{next(person.message_ids)}"
        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._done[message_id] = waiter
        seen = len(self.fake.texts(chat))
        self.updates += 1
        queued = time.perf_counter()
        self.fake.say(chat, text, display_name="Nguyễn Văn An", message_id=message_id)
        handled = await waiter
        self._answers[person.id] = self.fake.texts(chat)[seen:]
        return queued, handled

    def _number(self, person: Person, step: Step) -> str:
        """The number of the step's choice in the member's last answer."""
        answer = self._answers.get(person.id, [])
        for text in reversed(answer):
            for line in text.splitlines():
                number, dot, label = line.partition(". ")
                if dot and number.isdigit() and step.choice in label:
                    return number
        raise DialogError(f"member {person.id}: no {step.describe()} in the last answer {answer!r}")

    async def close(self) -> None:
        """Stop the bot (polling first: the events in flight are finished), then the fake."""
        try:
            if self._runtime is not None:
                await self._runtime.stop()
        finally:
            for name in WATCHED:
                logging.getLogger(name).removeHandler(self.errors)
            await self.server.stop()
            await self.fake.stop()
