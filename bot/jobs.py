"""The scheduled jobs: each runs only in the process that holds the job lease."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import JobQueue

from bot.settings import Settings
from domain.commend import Commendations
from handlers.telegram import BotContext

log = logging.getLogger(__name__)

Job = Callable[[BotContext], Coroutine[Any, Any, None]]


def on_duty(job: Job) -> Job:
    """A scheduled job that runs only in the process holding the job lease."""

    async def run(context: BotContext) -> None:
        duty = context.bot_data.duty
        if duty is not None and duty.held:
            await job(context)

    return run


def _wake(context: BotContext) -> None:
    """Messages were queued: the sender looks now rather than at its next poll."""
    if context.bot_data.sender is not None:
        context.bot_data.sender.wake()


class Jobs:
    """What runs on a clock rather than on a member's message."""

    def __init__(self, settings: Settings, commendations: Commendations) -> None:
        self._settings = settings
        self._commendations = commendations

    def schedule(self, job_queue: JobQueue[BotContext]) -> None:
        """Put every job on the queue, each guarded by the lease."""
        job_queue.run_repeating(
            on_duty(self.forget_handled_updates), interval=dt.timedelta(hours=6), first=60
        )
        job_queue.run_repeating(
            on_duty(self.send_nudges), interval=dt.timedelta(hours=1), first=120, name="nudges"
        )
        job_queue.run_repeating(
            on_duty(self.commend), interval=dt.timedelta(minutes=10), first=90, name="weekly"
        )
        job_queue.run_daily(
            on_duty(self.remind_reviewers),
            time=self._settings.review_reminder_time.replace(tzinfo=self._settings.timezone),
            name="review_reminders",
        )

    async def commend(self, _context: BotContext) -> None:
        """Every 10 minutes: at the weekly time, queue the week's commendations (once)."""
        await self._commendations.run()

    async def remind_reviewers(self, context: BotContext) -> None:
        """Once a day: what waits too long, to its reviewers, and one level up. They go
        through the delivery queue, at each channel's pace."""
        after = dt.timedelta(days=self._settings.review_reminder_days)
        if await context.upkeep.review_reminders(after):
            _wake(context)

    async def send_nudges(self, context: BotContext) -> None:
        """Every hour: stale drafts, milestones and, on Mondays, lagging units. They go
        through the delivery queue, at each channel's pace."""
        if await context.upkeep.nudges_due():
            _wake(context)

    async def forget_handled_updates(self, context: BotContext) -> None:
        """Drop the record of updates old enough that Telegram will not send them again."""
        forgotten = await context.upkeep.forget_handled_events(dt.timedelta(days=7))
        log.info("forgot %s handled updates", forgotten)
