"""The dialog benchmark's budget phases: replies are not held to the bulk budget.

The same closed loop as the throughput phase (every worker sends its next step as soon as
the previous is handled), through the real bot with its real send budget in place, twice
on a fresh database each: against the fake that never refuses, and against one that
refuses (429) bulk messages beyond 30 in any second. A reply (a message to a member who
just wrote) is no bulk message: with the budget in place, replies go out as fast as
without it, not capped at 29 a second.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from telegram.request import RequestData

from benchmarks.dialog import PhaseResult, _measure, _people, _result, closed_loop
from benchmarks.harness import DIALOG, PHASE_TIMEOUT, WARMUP_BASE, fresh_database, real_bot
from benchmarks.virtual_time import TELEGRAM_PER_SECOND
from handlers.telegram.fake import (
    REPLY_WINDOW,
    SENDING,
    TOO_MANY,
    FastFakeBotApi,
    SendLimits,
    parameters_of,
)


class BulkLimitedFakeBotApi(FastFakeBotApi):
    """Refuses bulk messages beyond Telegram's 30 a second; a message to a chat whose
    member wrote within ``REPLY_WINDOW`` seconds is a reply, and is not counted."""

    def __init__(self) -> None:
        super().__init__()
        self.limits = SendLimits(TELEGRAM_PER_SECOND)
        self._wrote: dict[int, float] = {}
        self.refused = 0

    def expect(self, chat_id: int) -> None:
        """The member in this chat sends the bot an update now."""
        self._wrote[chat_id] = time.monotonic()
        super().expect(chat_id)

    async def answer(self, name: str, request_data: RequestData | None) -> tuple[int, bytes]:
        """429 beyond 30 bulk messages in the last second; else as the base."""
        if name in SENDING and request_data is not None:
            chat_id = int(parameters_of(request_data)["chat_id"])
            now = time.monotonic()
            bulk = now - self._wrote.get(chat_id, -REPLY_WINDOW) >= REPLY_WINDOW
            if self.limits.refusal(chat_id, now, bulk) is not None:
                self.refused += 1
                return 429, TOO_MANY
            self.limits.record(chat_id, now, bulk)
        return await super().answer(name, request_data)


async def replies_phase(
    engine: str, url: str, workers: int, warmup: int, limited: bool
) -> tuple[PhaseResult, float, int]:
    """One closed loop; the result, replies (sendMessage) a second and 429s."""
    api = BulkLimitedFakeBotApi() if limited else FastFakeBotApi()
    phase = "replies_budget" if limited else "replies_free"
    async with fresh_database(engine, url) as database:
        async with real_bot(database, api) as driver:
            await closed_loop(driver, _people(warmup, WARMUP_BASE), DIALOG)
            before = api.messages
            measured = await asyncio.wait_for(_measure(driver, workers, 0, None), PHASE_TIMEOUT)
            replies = api.messages - before
        result = await _result(driver, measured, (engine, phase, workers), database)
    refused = api.refused if isinstance(api, BulkLimitedFakeBotApi) else 0
    return result, replies / measured[0], refused


async def budget_phases(
    engine: str, url: str, workers: int, warmup: int
) -> tuple[list[PhaseResult], dict[str, Any]]:
    """Replies a second without and with the bulk limits, and the figures for the JSON."""
    free, free_rate, _ = await replies_phase(engine, url, workers, warmup, limited=False)
    budget, budget_rate, refused = await replies_phase(engine, url, workers, warmup, True)
    figures = {
        "replies_per_s_with_budget": round(budget_rate, 1),
        "replies_per_s_without_budget": round(free_rate, 1),
        "replies_with_budget_ratio": round(budget_rate / free_rate, 3) if free_rate else None,
        "replies_with_budget_http_429": refused,
    }
    return [free, budget], figures
