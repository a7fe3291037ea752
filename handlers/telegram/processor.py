"""Updates of different members run concurrently; one member's run strictly in order."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from handlers.ordering import MemberLocks

log = logging.getLogger(__name__)


class PerMemberUpdateProcessor(BaseUpdateProcessor):
    """Serialises each member's updates with a lock that exists while they have some queued.

    Updates arrive in order and asyncio locks wake waiters first-in first-out, so one
    member's updates are handled in the order Telegram sent them.
    """

    def __init__(
        self,
        max_concurrent_updates: int,
        on_handled: Callable[[object, float], None] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._locks = MemberLocks()
        self._on_handled = on_handled
        self.handled = 0

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update once the member's earlier updates are done."""
        start = time.perf_counter()
        try:
            await self._in_member_order(update, coroutine)
        finally:
            self.handled += 1
            seconds = time.perf_counter() - start
            if self._on_handled is not None:
                self._on_handled(update, seconds)
            if isinstance(update, Update):
                user = update.effective_user
                fields = {"update_id": update.update_id, "user_id": user.id if user else None,
                          "ms": round(seconds * 1000, 1)}  # fmt: skip
                log.info("update handled", extra=fields)

    async def _in_member_order(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _member_key(update)
        if key is None:
            await coroutine
            return
        async with self._locks.hold(key):
            await coroutine

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""


def _member_key(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_user is not None:
            return update.effective_user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
    return None
