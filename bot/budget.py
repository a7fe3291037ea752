"""One sending budget for the whole bot: Telegram allows about 30 messages a second.

Interactive replies spend from it at once; the broadcast sender waits for what they
leave. So a broadcast never holds up a reply, and replies plus broadcast together
never pass 30 in any one second: the broadcast always leaves one slot of the second
free, and a reply finding every slot taken waits for the next (a few milliseconds).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram.ext import BaseRateLimiter

# What a limiter sees passed by the sender, so it does not count a message twice.
BROADCAST = "broadcast"
# Bot API methods that put a message in a chat, and so count towards the limit.
_SENDING = ("send", "copyMessage", "forwardMessage")
# Telegram's limit: messages in any one second, for the whole bot.
LIMIT = 30


class SendBudget:
    """The broadcast's smooth pace (a token bucket of ``rate`` a second holding at most
    one token) within a hard count of the last second's messages (``limit``).

    Interactive spending may put the bucket into debt (up to one second's worth), which
    the broadcast then waits out.
    """

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        limit: int = LIMIT,
    ) -> None:
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._limit = limit
        self._tokens = 1.0
        self._at = clock()
        self._last_second: deque[float] = deque()
        self.interactive = 0

    def _refill(self) -> float:
        now = self._clock()
        self._tokens = min(1.0, self._tokens + (now - self._at) * self.rate)
        self._at = now
        while self._last_second and self._last_second[0] <= now - 1.0:
            self._last_second.popleft()
        return now

    def _slot_free_in(self, now: float, keep: int) -> float:
        """Seconds until the last second holds fewer than ``limit - keep`` messages."""
        excess = len(self._last_second) - (self._limit - keep) + 1
        return 0.0 if excess <= 0 else self._last_second[excess - 1] + 1.0 - now

    async def spend(self) -> None:
        """An interactive message: it goes at once unless the second is full."""
        now = self._refill()
        while (wait := self._slot_free_in(now, keep=0)) > 0:
            await self._sleep(wait)
            now = self._refill()
        self._tokens = max(-self.rate, self._tokens - 1.0)
        self._last_second.append(now)
        self.interactive += 1

    async def take(self) -> None:
        """Wait until a broadcast message may go out, leaving a slot for a reply."""
        now = self._refill()
        while (wait := max((1.0 - self._tokens) / self.rate,
                           self._slot_free_in(now, keep=1))) > 0:  # fmt: skip
            await self._sleep(wait)
            now = self._refill()
        self._tokens -= 1.0
        self._last_second.append(now)


class BudgetLimiter(BaseRateLimiter[str]):
    """Counts the bot's interactive messages against the shared budget."""

    def __init__(self, budget: SendBudget) -> None:
        self.budget = budget

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
        """Send at once; count messages other than the broadcast's own."""
        if rate_limit_args != BROADCAST and endpoint.startswith(_SENDING):
            await self.budget.spend()
        return await callback(*args, **kwargs)
