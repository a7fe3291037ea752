"""A worker on Zalo, by typing only: the real bot with its Zalo channel on, against a fake
Zalo Bot API over HTTP, polling as in production."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.serve import _open_zalo
from bot.settings import Settings
from domain.model import InitiativeStatus
from handlers.zalo.channel import ZaloChannel
from handlers.zalo.fake import FakeZaloApi
from storage.db import create_engine
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import StartBot, seed_units
from tests.fakebotapi import TOKEN, Harness
from tests.scenario import MAY10, PROBLEM
from tests.test_review import ADMIN_A, grant

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


@pytest.fixture
async def zalo(start_bot: StartBot, database_url: str) -> AsyncIterator[Worker]:
    """The bot, its Zalo channel on, and a worker."""
    await seed_units(database_url)
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


async def test_a_worker_joins_and_submits_by_typing(zalo: Worker, database_url: str) -> None:
    answer = await submit_by_typing(zalo)
    assert any("SK-000001" in text for text in answer), answer
    assert await status_of_first(database_url) is InitiativeStatus.PENDING
    assert all(0 < len(text) <= 2000 for text in zalo.texts())


async def test_the_same_message_delivered_twice_is_answered_once(zalo: Worker) -> None:
    first = await zalo.say(f"/start {MAY10}", message_id="m-1")
    again = await zalo.say(f"/start {MAY10}", message_id="m-1")
    assert first and not again


async def test_a_decision_reaches_the_zalo_author_through_the_queue(
    zalo: Worker, database_url: str
) -> None:
    await grant(database_url, MAY10, ADMIN_A)
    await submit_by_typing(zalo)
    await zalo.harness.settle()
    admin = zalo.harness.member(ADMIN_A, "An")
    seen = len(zalo.texts())
    await admin.tap("✅ Duyệt")
    await admin.tap("Xác nhận")
    await zalo.fake.wait_for_messages(zalo.user_id, seen + 1)
    told = zalo.texts()[-1]
    assert "SK-000001" in told and "đã được duyệt" in told, told
    assert await status_of_first(database_url) is InitiativeStatus.APPROVED
