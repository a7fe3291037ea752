"""The scheduled jobs, on a clock of our own whatever channels run: each runs only in the
process that holds the job lease."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.settings import Settings
from domain.commend import Commendations
from domain.upkeep import Upkeep

log = logging.getLogger(__name__)

# A long wait is cut in pieces so that a clock set forward or a machine woken from sleep
# runs the next job at its time, not a wait's length later.
LONGEST_NAP = 60.0


def utc_now() -> dt.datetime:
    """The wall clock, timezone-aware."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Job:
    """One scheduled job: what it does, and when. Either ``every`` (after ``first``
    seconds, then repeatedly) or ``daily_at`` (a time of day with its time zone)."""

    name: str
    work: Callable[[], Awaitable[None]]
    every: dt.timedelta | None = None
    first: float = 0.0
    daily_at: dt.time | None = None

    def next_after(self, now: dt.datetime) -> dt.datetime:
        """When it runs next after ``now`` (a daily job)."""
        assert self.daily_at is not None and self.daily_at.tzinfo is not None
        local = now.astimezone(self.daily_at.tzinfo)
        at = dt.datetime.combine(local.date(), self.daily_at.replace(tzinfo=None),
                                 self.daily_at.tzinfo)  # fmt: skip
        return at if at > local else at + dt.timedelta(days=1)


class Jobs:
    """What runs on a clock rather than on a member's message, and the clock that runs it."""

    def __init__(
        self,
        settings: Settings,
        commendations: Commendations,
        upkeep: Upkeep,
        *,
        on_duty: Callable[[], Awaitable[bool]],
        wake: Callable[[], None],
        failed: Callable[[str, BaseException], Awaitable[None]],
        clock: Callable[[], dt.datetime] = utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._settings = settings
        self._commendations = commendations
        self._upkeep = upkeep
        self._on_duty = on_duty
        self._wake = wake
        self._failed = failed
        self._clock = clock
        self._sleep = sleep
        self._tasks: list[asyncio.Task[None]] = []
        reminder_time = settings.review_reminder_time.replace(tzinfo=settings.timezone)
        self.schedule = {job.name: job for job in (
            Job("forget_events", self.forget_handled_events, dt.timedelta(hours=6), first=60),
            Job("nudges", self.send_nudges, dt.timedelta(hours=1), first=120),
            Job("weekly", self.commend, dt.timedelta(minutes=10), first=90),
            Job("review_reminders", self.remind_reviewers, daily_at=reminder_time),
            Job("draft_retention", self.forget_old_drafts, daily_at=reminder_time),
        )}  # fmt: skip

    def start(self) -> None:
        """Run every job at its times, in the background, until ``stop``."""
        self._tasks = [asyncio.get_running_loop().create_task(self._keep(job), name=f"job-{name}")
                       for name, job in self.schedule.items()]  # fmt: skip

    async def stop(self) -> None:
        """Stop the clock; a job in progress is cancelled (each is safe to run again)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def run(self, name: str) -> None:
        """Run a job now, as its time would: only where the lease is held (renewed first:
        a loop held up past the lease's trust would skip it). Its error reaches the
        caller (tests); on the clock, errors are reported and it goes on."""
        if await self._on_duty():
            await self.schedule[name].work()

    async def _keep(self, job: Job) -> None:
        """One job's clock."""
        if job.every is not None:
            await self._sleep(job.first)
            while True:
                await self._attempt(job)
                await self._sleep(job.every.total_seconds())
        while True:
            due = job.next_after(self._clock())
            while (left := (due - self._clock()).total_seconds()) > 0:
                await self._sleep(min(left, LONGEST_NAP))
            await self._attempt(job)

    async def _attempt(self, job: Job) -> None:
        """Run a job on its clock: an error is reported, and the clock goes on."""
        try:
            await self.run(job.name)
        except Exception as error:
            await self._failed(f"job {job.name}", error)

    async def commend(self) -> None:
        """Every 10 minutes: at the weekly time, queue the week's commendations (once)."""
        if await self._commendations.run():
            self._wake()

    async def remind_reviewers(self) -> None:
        """Once a day: what waits too long, to its reviewers, and one level up. They go
        through the delivery queue, at each channel's pace."""
        after = dt.timedelta(days=self._settings.review_reminder_days)
        if await self._upkeep.review_reminders(after):
            self._wake()

    async def send_nudges(self) -> None:
        """Every hour: stale drafts, milestones and, on Mondays, lagging units. They go
        through the delivery queue, at each channel's pace."""
        if await self._upkeep.nudges_due():
            self._wake()

    async def forget_old_drafts(self) -> None:
        """Once a day: drafts untouched for DRAFT_RETENTION_MONTHS months get a notice to
        their writer (through the delivery queue), and go 14 days later if still untouched."""
        told, deleted = await self._upkeep.forget_old_drafts(self._settings.draft_retention_months)
        log.info("told of %s old drafts, deleted %s", told, deleted)
        if told:
            self._wake()

    async def forget_handled_events(self) -> None:
        """Drop the record of updates and messages old enough that no platform sends them
        again."""
        forgotten = await self._upkeep.forget_handled_events(dt.timedelta(days=7))
        log.info("forgot %s handled updates", forgotten)
        # Pictures drawn for a link at PUBLIC_URL go when the link has expired.
        expired = await self._upkeep.forget_expired_files()
        log.info("forgot %s expired pictures", expired)
