"""The order Zalo's events are handled in, polled or POSTed by the platform's webhook:
one member's strictly in the order they arrive, different members' side by side.

The webhook's HTTP side (secret, size, JSON) lives with the bot's aiohttp server; it
calls the poller's ``MemberOrder`` with each event it accepts, as the polling loop does
with each event it takes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from handlers.ordering import MemberLocks
from handlers.zalo.api import ZaloEvent

# Events handled at once, all members together, as MAX_CONCURRENT_UPDATES is for Telegram.
DEFAULT_CONCURRENCY = 256


class MemberOrder:
    """Runs each member's events one at a time, first in first out, and different
    members' side by side; a member's lock exists only while they have events in flight.

    The platform documents no per-member queue for its webhook, so two messages of one
    member may arrive at once, and polling takes the next event before the last is done:
    asyncio locks wake waiters in order, so they run in the order they came in, as
    Telegram's updates do (PerMemberUpdateProcessor).
    """

    def __init__(
        self,
        handle: Callable[[ZaloEvent], Awaitable[None]],
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self._handle = handle
        self._slots = asyncio.Semaphore(concurrency)
        self._locks = MemberLocks()

    async def __call__(self, event: ZaloEvent) -> None:
        """Handle ``event`` once the member's earlier events are done."""
        async with self._locks.hold(event.sender_id), self._slots:
            await self._handle(event)

    @property
    def members_in_flight(self) -> int:
        """Members with an event being handled or waiting."""
        return len(self._locks)
