"""The bulk budget: Telegram allows about 30 bulk notifications a second for the whole bot.

Replies are not bulk: the direct answer to what a member just did goes at once, paced only
by Telegram's ``retry_after`` (``BudgetLimiter``), and spends nothing from here. Queued
messages do: an urgent notification (someone's action) goes at once unless the second is
full (``spend``); the broadcast waits for what they leave (``take``). The hard count of the
last second stays a margin under Telegram's limit: it absorbs the difference between our
clock and Telegram's (the network's jitter).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.metrics import Metrics

log = logging.getLogger(__name__)

# What a limiter sees passed by the sender, so it does not count a message twice.
BROADCAST = "broadcast"
# Bot API methods that put a message in a chat, and so count towards the limit.
_SENDING = ("send", "copyMessage", "forwardMessage")
# Telegram's limit: messages in any one second, for the whole bot.
LIMIT = 30
# Left unused of each second: a message we count in one second may reach Telegram in the next.
MARGIN = 1
# Times a reply refused with RetryAfter is tried again after the wait Telegram asks for.
RETRIES = 2
# A timer fires a little late, never early: a token due within this much is taken now.
EARLY = 0.001
# The shortest wait: a clock that a tinier step would not move cannot spin.
TICK = 0.0005
# Tokens the broadcast may save up: a sender woken a little late, or slowed by a commit,
# catches up instead of losing the time; the hard count still caps any second.
BURST = 5.0


def wait_asked(error: RetryAfter) -> float:
    """The seconds Telegram asked to wait (a number, or a timedelta in newer versions)."""
    delay = error.retry_after
    return float(delay) if isinstance(delay, (int, float)) else delay.total_seconds()


# Counts one message in the current second for every process together, if fewer than the
# cap were; else the seconds until the next second (storage.lease.SendCount.claim).
Shared = Callable[[int], Awaitable[float | None]]
# Of each second counted for all processes, kept for replies: the broadcast (one process)
# cannot take a whole second from the replies of the others.
REPLY_ROOM = 2


class SendBudget:
    """The broadcast's smooth pace (a token bucket of ``rate`` a second holding at most
    ``burst`` tokens) within a hard count of the last second's messages (``limit``), and,
    when several processes share the bot (``shared``), within a count of each second's
    messages of all of them.

    Urgent spending may put the bucket into debt (up to one second's worth), which the
    broadcast then waits out.
    """

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        limit: int = LIMIT,
        burst: float = BURST,
        shared: Shared | None = None,
        margin: int = MARGIN,
    ) -> None:
        self.rate = rate
        self._burst = burst
        self._shared = shared
        self._clock = clock
        self._sleep = sleep
        self._limit = limit - margin
        self._replies_waiting = 0
        self._tokens = 1.0
        self._at = clock()
        self._last_second: deque[float] = deque()
        self.interactive = 0

    def _refill(self) -> float:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        while self._last_second and self._last_second[0] <= now - 1.0:
            self._last_second.popleft()
        return now

    def _slot_free_in(self, now: float, keep: int) -> float:
        """Seconds until the last second holds fewer than ``limit - keep`` messages."""
        excess = len(self._last_second) - (self._limit - keep) + 1
        return 0.0 if excess <= 0 else self._last_second[excess - 1] + 1.0 - now

    async def spend(self) -> None:
        """An urgent message: it goes at once unless the second is full."""
        now = self._refill()
        self._replies_waiting += 1
        try:
            while (wait := self._slot_free_in(now, keep=0)) > 0:
                await self._sleep(max(wait, TICK))
                now = self._refill()
        finally:
            self._replies_waiting -= 1
        self._tokens = max(-self.rate, self._tokens - 1.0)
        self._last_second.append(now)
        self.interactive += 1
        await self._share(self._limit, now)

    async def wait(self, seconds: float) -> None:
        """Sleep on the budget's clock."""
        await self._sleep(seconds)

    async def take(self) -> None:
        """Wait until a broadcast message may go out, after any reply waiting for a slot."""
        now = self._refill()
        while (wait := max((1.0 - self._tokens) / self.rate - EARLY,
                           self._slot_free_in(now, keep=self._replies_waiting))) > 0:  # fmt: skip
            await self._sleep(max(wait, TICK))
            now = self._refill()
        self._tokens -= 1.0
        self._last_second.append(now)
        await self._share(self._limit - REPLY_ROOM, now)

    async def _share(self, cap: int, counted_at: float) -> None:
        """With several processes: wait until the second, counted for all of them, has room.
        The message then counts in this process's last second from when it goes, not from
        when it asked (the database's answer takes a moment)."""
        if self._shared is None:
            return
        while (wait := await self._shared(cap)) is not None:
            await self._sleep(max(wait, TICK))
        with contextlib.suppress(ValueError):  # gone already if it waited a whole second
            self._last_second.remove(counted_at)
        self._last_second.append(self._refill())


class BudgetLimiter(BaseRateLimiter[str]):
    """Replies go at once, outside the bulk budget; one refused is tried again after the
    wait Telegram asks for."""

    def __init__(self, budget: SendBudget, metrics: Metrics | None = None) -> None:
        # The budget's clock times the waits (a benchmark's sped-up clock).
        self.budget = budget
        self._metrics = metrics or Metrics()

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Send at once: a reply is no bulk notification, and a private chat takes a reply's
        few messages in a burst; the sender paces and retries its own messages."""
        if rate_limit_args == BROADCAST or not endpoint.startswith(_SENDING):
            return await callback(*args, **kwargs)
        retries = RETRIES
        while True:
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as error:
                self._metrics.too_many.inc()
                if not retries:
                    raise
                retries -= 1
                seconds = wait_asked(error)
                log.warning("a reply was refused by Telegram; retrying in %s s", seconds)
                await self.budget.wait(seconds)
                continue
            self._metrics.sent.labels("reply").inc()
            return result
