"""One sending budget for the whole bot: Telegram allows about 30 messages a second.

Interactive replies spend from it without waiting; the broadcast sender waits for
what they leave. So a broadcast never delays a reply, and replies plus broadcast
together stay within the limit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram.ext import BaseRateLimiter

# What a limiter sees passed by the sender, so it does not count a message twice.
BROADCAST = "broadcast"
# Bot API methods that put a message in a chat, and so count towards the limit.
_SENDING = ("send", "copyMessage", "forwardMessage")


class SendBudget:
    """A token bucket of ``rate`` messages a second holding at most one token.

    In any second at most ``rate + 1`` messages leave, so a rate of 29 stays within 30.
    Interactive spending may go into debt (up to one second's worth), which the
    broadcast then waits out.
    """

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._tokens = 1.0
        self._at = clock()
        self.interactive = 0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(1.0, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def spend(self) -> None:
        """An interactive message went out: it never waits."""
        self._refill()
        self._tokens = max(-self.rate, self._tokens - 1.0)
        self.interactive += 1

    async def take(self) -> None:
        """Wait until a broadcast message may go out, and count it."""
        self._refill()
        while self._tokens < 1.0:
            await self._sleep((1.0 - self._tokens) / self.rate)
            self._refill()
        self._tokens -= 1.0


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
            self.budget.spend()
        return await callback(*args, **kwargs)
