"""A worker on Zalo for scenario tests: the real bot with its Zalo channel on, against a
fake Zalo Bot API over HTTP, polling as in production."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.serve import _open_zalo
from bot.settings import Settings
from domain.model import InitiativeStatus
from handlers.zalo.channel import ZaloChannel
from handlers.zalo.fake import FakeZaloApi
from storage.db import create_engine
from storage.uow import SqlUnitOfWorkFactory
from tests.fakebotapi import TOKEN, Harness
from tests.scenario import MAY10, PROBLEM

StartBot = Callable[..., Awaitable[Harness]]
_CHOICE = re.compile(r"^(\d+)\. (.*)$")


@dataclass
class Worker:
    """One Zalo user typing to the bot, reading what it sends back."""

    fake: FakeZaloApi
    channel: ZaloChannel
    user_id: str
    # The bot's Telegram side, where the admins are.
    harness: Harness

    def texts(self) -> list[str]:
        return self.fake.texts(self.user_id)

    async def say(self, text: str, message_id: str | None = None) -> list[str]:
        """Send a message; what the bot answered to it."""
        seen, handled = len(self.texts()), self.channel.poller.handled
        self.fake.say(self.user_id, text, display_name="Lan", message_id=message_id)
        async with asyncio.timeout(10):
            while self.channel.poller.handled <= handled:  # noqa: ASYNC110 - a counter
                await asyncio.sleep(0.01)
        return self.texts()[seen:]

    async def choose(self, label: str) -> list[str]:
        """Type the number of the newest numbered choice whose label contains ``label``."""
        for text in reversed(self.texts()):
            for line in text.splitlines():
                found = _CHOICE.match(line)
                if found and label in found.group(2):
                    return await self.say(found.group(1))
        raise AssertionError(f"no choice {label!r} in {self.texts()[-3:]}")


@asynccontextmanager
async def zalo_worker(start_bot: StartBot, database_url: str) -> AsyncIterator[Worker]:
    """The bot, its Zalo channel on against a fake Zalo Bot API, and a worker."""
    async with FakeZaloApi() as fake:
        harness = await start_bot(zalo_bot_token=fake.token, zalo_api_base_url=fake.base_url)
        settings = Settings(telegram_bot_token=TOKEN, database_url=database_url,
                            zalo_bot_token=fake.token, zalo_api_base_url=fake.base_url)  # fmt: skip
        channel = await _open_zalo(harness.application, settings)
        assert channel is not None
        try:
            yield Worker(fake, channel, "5550001", harness)
        finally:
            await channel.stop()


async def status_of_first(database_url: str) -> InitiativeStatus | None:
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            initiative = await uow.initiatives.get(1)
        return initiative.status if initiative else None
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def submit_by_typing(zalo: Worker) -> list[str]:
    """Join May 10 and submit a full initiative, typing only; the last answer."""
    answer = await zalo.say(f"/start {MAY10}")
    assert any("1. " in text for text in answer), answer
    await zalo.choose("Đúng")
    answer = await zalo.say("Nguyễn Thị Lan")
    assert "1. Bỏ qua" in answer[-1], answer
    answer = await zalo.say("1")
    assert "1. 📝 Nộp sáng kiến" in answer[-1], answer
    await zalo.say("1")
    await zalo.say("Giá treo cuộn chỉ xoay")
    await zalo.choose("Giải pháp kỹ thuật")
    await zalo.say("san xuat")  # the words of a choice, without diacritics
    await zalo.say(PROBLEM)
    await zalo.choose("Xong")
    await zalo.say("Làm giá treo xoay bằng thép tận dụng, thay cuộn chỉ trong 1 phút.")
    await zalo.say("xong")
    await zalo.choose("Tháng này")
    await zalo.say("Giảm thời gian dừng máy, đỡ đau lưng cho công nhân.")
    await zalo.say("1.200.000đ")
    await zalo.say("Trần Văn Bình 30%")
    await zalo.choose("Xong")
    await zalo.choose("Bỏ qua")
    await zalo.choose("Không")
    return await zalo.choose("Gửi")
