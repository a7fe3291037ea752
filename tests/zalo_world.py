"""A worker on Zalo for scenario tests: the real bot with its Zalo channel on, against a
fake Zalo Bot API over HTTP, polling as in production."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bot.zalo import ZaloSide
from domain.model import InitiativeStatus, Member, RoleKind
from domain.roles import grant_role
from handlers.zalo.channel import ZaloChannel
from handlers.zalo.fake import FakeZaloApi
from storage.db import create_engine
from storage.uow import SqlUnitOfWorkFactory
from tests.fakebotapi import Harness
from tests.scenario import MAY10, PROBLEM, agreed_before

StartBot = Callable[..., Awaitable[Harness]]
_CHOICE = re.compile(r"^(\d+)\. (.*)$")


@dataclass
class ZaloUser:
    """One Zalo user typing to the bot, reading what it sends back."""

    fake: FakeZaloApi
    channel: ZaloChannel
    user_id: str

    def texts(self) -> list[str]:
        return self.fake.texts(self.user_id)

    async def say(self, text: str, message_id: str | None = None) -> list[str]:
        """Send a message; what the bot answered to it."""
        return await self.answered(
            lambda: self.fake.say(self.user_id, text, display_name="Lan", message_id=message_id)
        )

    async def photo(
        self, url: str | None = None, caption: str | None = None, message_id: str | None = None
    ) -> list[str]:
        """Send a photo (the fake's own by default); the texts the bot answered."""
        return await self.answered(lambda: self.fake.send_image(
            self.user_id, url, caption, display_name="Lan", message_id=message_id))  # fmt: skip

    async def voice(self, url: str | None = None, message_id: str | None = None) -> list[str]:
        """Send a voice note (the fake's own by default); the texts the bot answered."""
        return await self.answered(lambda: self.fake.send_voice(
            self.user_id, url, display_name="Lan", message_id=message_id))  # fmt: skip

    async def answered(self, push: Callable[[], object]) -> list[str]:
        """Queue an event with ``push``; the texts the bot answered once it is handled."""
        seen, handled = len(self.texts()), self.channel.poller.handled
        push()
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


@dataclass
class Worker(ZaloUser):
    """A Zalo user of a bot that is on Telegram too."""

    # The bot's Telegram side, where the admins are.
    harness: Harness


@asynccontextmanager
async def zalo_worker(start_bot: StartBot, **changes: Any) -> AsyncIterator[Worker]:
    """The bot with both channels on (and ``changes`` to its settings), its Zalo side
    polling a fake Zalo Bot API, and a worker."""
    async with FakeZaloApi() as fake:
        harness = await start_bot(zalo_bot_token=fake.token, zalo_api_base_url=fake.base_url,
                                  **changes)  # fmt: skip
        side = harness.runtime.channel("zalo")
        assert isinstance(side, ZaloSide)
        await side.receive(webhook=False)
        try:
            yield Worker(fake, side.channel, "5550001", harness)
        finally:
            await side.stop_receiving()


async def zalo_admins(database_url: str, *user_ids: str, unit_code: str = MAY10) -> None:
    """The operator makes these Zalo users admins of a unit (May 10 by default)."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        for user_id in user_ids:
            await grant_role(units_of_work, unit_code=unit_code, channel="zalo",
                             external_id=user_id, kind=RoleKind.ADMIN,
                             now=dt.datetime.now(dt.UTC))  # fmt: skip
            await agreed_before(database_url, "zalo", user_id)
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def start_draft(zalo: ZaloUser) -> None:
    """Join May 10 and open a new draft, typing only."""
    await zalo.say(f"/start {MAY10}")
    await zalo.choose("Đúng")
    await zalo.say("đồng ý")  # the privacy notice
    await zalo.say("Nguyễn Thị Lan")
    await zalo.choose("Bỏ qua")
    await zalo.choose("Nộp sáng kiến")


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


async def submit_by_typing(zalo: ZaloUser) -> list[str]:
    """Join May 10 and submit a full initiative, typing only; the last answer."""
    answer = await zalo.say(f"/start {MAY10}")
    assert any("1. " in text for text in answer), answer
    await zalo.choose("Đúng")
    await zalo.say("đồng ý")
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
    await answer_solution_to_coauthors(zalo)
    await zalo.choose("Bỏ qua")
    await zalo.choose("Không")
    return await zalo.choose("Gửi")


async def answer_solution_to_coauthors(zalo: ZaloUser, benefit: str = "1.200.000đ") -> None:
    """The questions from the solution to the co-authors, typing only."""
    await zalo.say("Làm giá treo xoay bằng thép tận dụng, thay cuộn chỉ trong 1 phút.")
    await zalo.say("xong")
    await zalo.choose("Tháng này")
    await zalo.say("Giảm thời gian dừng máy, đỡ đau lưng cho công nhân.")
    await zalo.say(benefit)
    await zalo.say("Trần Văn Bình 30%")
    await zalo.choose("Xong")


async def stored_member(database_url: str, channel: str, external_id: str) -> Member:
    """The member an account leads to, as stored."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            member = await uow.members.by_external_id(channel, external_id)
        assert member is not None
        return member
    finally:
        units_of_work.dispose()
        await engine.dispose()
