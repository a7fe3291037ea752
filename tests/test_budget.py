"""The bot's sending budget: broadcasts take what interactive replies leave."""

from __future__ import annotations

from handlers.telegram.budget import SendBudget
from tests.fakebotapi import Harness
from tests.scenario import join


class FakeTime:
    """A clock that moves only when the budget sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sends: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def most_in_one_second(times: list[float]) -> int:
    """The largest number of events inside any one-second window."""
    return max(sum(1 for t in times if start <= t < start + 1.0 - 1e-9) for start in times)


async def test_a_broadcast_alone_stays_one_under_thirty_a_second() -> None:
    time = FakeTime()
    budget = SendBudget(29, time.clock, time.sleep)
    for _ in range(300):
        await budget.take()
        time.sends.append(time.now)
    assert most_in_one_second(time.sends) <= 29
    rate = (len(time.sends) - 1) / (time.sends[-1] - time.sends[0])
    assert rate > 28.5, "close to the limit, not far below it"


async def test_replies_go_at_once_and_the_broadcast_yields_to_them() -> None:
    time = FakeTime()
    budget = SendBudget(29, time.clock, time.sleep)
    broadcast: list[float] = []
    replies: list[float] = []
    for index in range(290):
        if index % 3 == 0:
            await budget.spend()  # a reply
            replies.append(time.now)
        await budget.take()
        broadcast.append(time.now)
    assert most_in_one_second(sorted(broadcast + replies)) <= 29
    seconds = broadcast[-1] - broadcast[0]
    assert len(broadcast) / seconds < 23, "a quarter of the budget went to replies"


async def test_a_burst_of_replies_never_makes_thirty_in_a_second() -> None:
    time = FakeTime()
    budget = SendBudget(29, time.clock, time.sleep)
    sent: list[float] = []
    waited: list[float] = []
    for index in range(200):
        await budget.take()
        sent.append(time.now)
        if index % 40 == 39:
            for _ in range(5):  # five members get answers at the same moment
                before = time.now
                await budget.spend()
                waited.append(time.now - before)
                sent.append(time.now)
    assert most_in_one_second(sent) <= 29
    assert max(waited) < 0.2, "a reply waits at most for a slot, never for the broadcast"


async def test_a_sender_held_up_now_and_then_catches_up_within_the_limit() -> None:
    time = FakeTime()
    budget = SendBudget(29, time.clock, time.sleep)
    for index in range(600):
        await budget.take()
        time.sends.append(time.now)
        if index % 4 == 0:
            time.now += 0.05  # a slow commit: longer than one message's share of the second
    assert most_in_one_second(time.sends) <= 29
    rate = (len(time.sends) - 1) / (time.sends[-1] - time.sends[0])
    assert rate > 28.5, f"the time lost to slow commits is made up: {rate:.2f}/s"


async def test_a_reply_refused_by_telegram_is_sent_after_the_wait(bot: Harness) -> None:
    worker = bot.member(7001, "Lan")
    await join(worker)
    bot.api.refuse_next = 1  # Telegram's flood control answers 429, retry after 1 s
    await worker.say("/new")
    assert bot.api.too_many == 1
    assert "Câu hỏi 1/11" in worker.last().text, "the answer came after the wait"
    assert not any("trục trặc" in call.text for call in bot.api.sent_to(worker.id))
