"""Polling Zalo serves many members at once: the real bot with its Zalo channel on, the
fake Zalo Bot API holding back the answers to one member as a slow platform would."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tests.scenario import MAY10
from tests.zalo_world import Worker

OTHER = "5550002"


async def _until(check: Callable[[], bool], what: str, timeout: float = 10) -> None:
    """Wait until ``check()`` is true."""
    async with asyncio.timeout(timeout):
        while not check():  # noqa: ASYNC110 - counters of the fake and the poller
            await asyncio.sleep(0.01)
    assert check(), what


async def test_a_members_messages_typed_in_a_row_are_answered_in_order(zalo: Worker) -> None:
    held = zalo.fake.hold(zalo.user_id)
    handled = zalo.channel.poller.handled
    zalo.fake.say(zalo.user_id, f"/start {MAY10}")
    async with asyncio.timeout(10):
        await held.reached.wait()
    zalo.fake.say(zalo.user_id, "Đúng")
    zalo.fake.say(zalo.user_id, "đồng ý")
    zalo.fake.say(zalo.user_id, "Nguyễn Thị Lan")
    await _until(lambda: zalo.fake.pending == 0, "the poller took every message")
    await asyncio.sleep(0.1)
    assert zalo.channel.poller.handled == handled, "the later messages wait for the first"
    assert held.waiting == 1, "only the first message reached the core"

    held.released.set()
    await _until(lambda: zalo.channel.poller.handled == handled + 4, "all four handled")
    texts = zalo.texts()
    assert "Đúng" in texts[0], texts  # the unit to confirm, for /start
    assert "1. Bỏ qua" in texts[-1], texts  # the name was taken: next, the optional step


async def test_another_member_is_answered_while_the_first_waits(zalo: Worker) -> None:
    held = zalo.fake.hold(zalo.user_id)
    zalo.fake.say(zalo.user_id, f"/start {MAY10}")
    async with asyncio.timeout(10):
        await held.reached.wait()

    other = Worker(zalo.fake, zalo.channel, OTHER, zalo.harness)
    answer = await other.say(f"/start {MAY10}")
    assert any("Đúng" in text for text in answer), answer
    assert zalo.texts() == [], "the first member's answer is still held back"

    held.released.set()
    first = await zalo.fake.wait_for_messages(zalo.user_id, 1)
    assert first[0].text is not None and "Đúng" in first[0].text


async def test_stopping_waits_for_the_messages_in_flight(zalo: Worker) -> None:
    held = zalo.fake.hold(zalo.user_id)
    handled = zalo.channel.poller.handled
    zalo.fake.say(zalo.user_id, f"/start {MAY10}")
    async with asyncio.timeout(10):
        await held.reached.wait()

    stopping = asyncio.create_task(zalo.channel.stop_polling())
    await asyncio.sleep(0.2)
    assert not stopping.done(), "stopping went on while a member's answer was unsent"
    held.released.set()
    await asyncio.wait_for(stopping, 10)
    assert zalo.channel.poller.handled == handled + 1
    assert any("Đúng" in text for text in zalo.texts()), zalo.texts()
