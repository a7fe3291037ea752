"""Time running faster than real, and a fake Telegram that judges its limits by it.

``benchmarks.broadcast`` gives the bot's sender and send budget a ``VirtualClock`` as
``pace``; ``LimitedFakeBotApi`` refuses, with HTTP 429 "retry after 1" as Telegram does,
what goes beyond Telegram's limits on the same clock, and counts what one text (the
broadcast) reached.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import cast

from telegram.request import RequestData

from handlers.telegram.fake import SENDING, TOO_MANY, FastFakeBotApi, SendLimits, parameters_of

# Telegram: about 30 messages a second for the whole bot, one a second to one chat.
TELEGRAM_PER_SECOND = 30
PER_CHAT_SECONDS = 1.0
SPIN = 0.002  # real seconds at the end of a virtual sleep spent yielding, not on a timer


# -- virtual time ------------------------------------------------------------------


class VirtualClock:
    """Monotonic seconds that run ``speed`` times faster than real time, and a sleep.

    asyncio's timers wake up late by up to about a millisecond (epoll waits whole
    milliseconds): at speed S that is S ms of virtual lateness, S times what the bot sees
    in production, more than the send budget's small bucket can make up.
    So by default a sleep waits on a timer for all but its last ``SPIN`` seconds, then
    yields to the loop until it is due; ``coarse`` sleeps on the timer alone.
    """

    def __init__(self, speed: float, *, coarse: bool = False) -> None:
        self.speed = speed
        self.coarse = coarse
        self._origin = time.perf_counter()
        self.paced = 0.0  # virtual seconds the bot's sender and send budget slept

    def now(self) -> float:
        """Virtual seconds since the clock was made."""
        return (time.perf_counter() - self._origin) * self.speed

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of virtual time."""
        real = max(0.0, seconds) / self.speed
        if self.coarse:
            await asyncio.sleep(real)
            return
        due = time.perf_counter() + real
        if real > SPIN:
            await asyncio.sleep(real - SPIN)
        while time.perf_counter() < due:  # noqa: ASYNC110 - spinning to the due time
            await asyncio.sleep(0)

    async def pace(self, seconds: float) -> None:
        """The sleep given to the bot: counted, to tell waiting for the budget from working."""
        self.paced += max(0.0, seconds)
        await self.sleep(seconds)


# -- the fake Bot API, with Telegram's limits ----------------------------------------


class LimitedFakeBotApi(FastFakeBotApi):
    """``FastFakeBotApi`` that answers 429 beyond Telegram's limits and counts the broadcast.

    Messages are judged by the virtual clock: at most 30 broadcast messages in any sliding
    second for the bot (the replies are no bulk messages), at most one a second to one
    chat. A refused message is not delivered and does not count towards either limit.
    """

    def __init__(self, clock: VirtualClock, broadcast_text: str) -> None:
        super().__init__()
        self.clock = clock
        self.broadcast_text = broadcast_text
        self.enforce = True
        self.limits = SendLimits(TELEGRAM_PER_SECOND, PER_CHAT_SECONDS)
        # Chat id -> how many times the broadcast text reached it.
        self.received: Counter[int] = Counter()
        self.deliveries: list[float] = []  # virtual time of each broadcast delivery
        self.interactive: list[float] = []  # virtual time of each other message
        self.refused_broadcast = 0
        self.refused_interactive = 0
        self.refusals: list[str] = []
        self.expected = 0
        self.all_received = asyncio.Event()

    def reset(self) -> None:
        """Forget the warm-up: counts start from here, limits apply from here."""
        self.enforce = True
        self.received.clear()
        self.deliveries.clear()
        self.interactive.clear()
        self.refused_broadcast = self.refused_interactive = 0
        self.refusals.clear()
        self.notices.clear()

    @property
    def http_429(self) -> int:
        """429 answers given."""
        return self.refused_broadcast + self.refused_interactive

    async def answer(self, name: str, request_data: RequestData | None) -> tuple[int, bytes]:
        """Refuse a message beyond the limits; count the broadcast's; else answer as the base."""
        if name in SENDING and request_data is not None:
            params = parameters_of(request_data)
            chat_id = int(cast(int, params["chat_id"]))
            is_broadcast = params.get("text", params.get("caption")) == self.broadcast_text
            now = self.clock.now()
            # The replies are no bulk notifications: only their chat's pace applies.
            refusal = self.limits.refusal(chat_id, now, is_broadcast) if self.enforce else None
            if refusal is not None:
                self._refused(is_broadcast, f"at {now:.3f} s: {refusal}")
                return 429, TOO_MANY
            self.limits.record(chat_id, now, is_broadcast)
            if is_broadcast:
                self.received[chat_id] += 1
                self.deliveries.append(now)
                if len(self.received) >= self.expected:
                    self.all_received.set()
            else:
                self.interactive.append(now)
        return await super().answer(name, request_data)

    def _refused(self, is_broadcast: bool, why: str) -> None:
        if is_broadcast:
            self.refused_broadcast += 1
        else:
            self.refused_interactive += 1
        if len(self.refusals) < 5:
            self.refusals.append(f"{'broadcast' if is_broadcast else 'reply'} {why}")
