"""What runs on a clock rather than on a member's message: reminders to reviewers,
nudges, and forgetting old redelivery guards. Each is one short transaction, and what
it tells people goes through the delivery queue in that same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from zoneinfo import ZoneInfo

from domain.delivery import queue
from domain.model import InitiativeStatus
from domain.nudges import NudgeDesk, NudgePolicy
from domain.ports import UnitOfWorkFactory
from domain.retention import BATCH, delete_expired, notices_due
from domain.review import ReviewDesk
from domain.ui import Capabilities


class Upkeep:
    """The scheduled work of the core; the jobs call it where the job lease is held."""

    def __init__(
        self,
        units_of_work: UnitOfWorkFactory,
        *,
        clock: Callable[[], dt.datetime],
        timezone: ZoneInfo,
        channels: Mapping[str, Capabilities],
        nudge_policy: NudgePolicy | None = None,
    ) -> None:
        self._uow = units_of_work
        self._clock = clock
        self._tz = timezone
        self._channels = channels
        self._review = ReviewDesk(timezone)
        self._nudges = NudgeDesk(nudge_policy or NudgePolicy())

    async def review_reminders(self, after: dt.timedelta) -> int:
        """The day's reminders to reviewers, queued with the record that they were sent,
        so a second run the same day (a restart) sends nothing; returns how many."""
        now = self._clock()
        async with self._uow() as uow:
            deliveries = await self._review.reminders(
                uow, now, now.astimezone(self._tz).date(), after
            )
            queued = await queue(uow, deliveries, now, urgent=False, channels=self._channels)
            await uow.commit()
        return queued

    async def nudges_due(self) -> int:
        """The nudges due now, queued with their record; returns how many."""
        now = self._clock()
        async with self._uow() as uow:
            deliveries = await self._nudges.due(uow, now, now.astimezone(self._tz))
            queued = await queue(uow, deliveries, now, urgent=False, channels=self._channels)
            await uow.commit()
        return queued

    async def forget_old_drafts(self, months: int, batches: int = 50) -> tuple[int, int]:
        """Tell the writers of drafts untouched for ``months`` months that they will be
        deleted, and delete those told of long enough ago and untouched since, a bounded
        batch per transaction; returns how many were told of and how many deleted."""
        told = deleted = 0
        for _batch in range(batches):
            now = self._clock()
            async with self._uow() as uow:
                found, deliveries = await notices_due(uow, now, months, self._tz)
                await queue(uow, deliveries, now, urgent=False, channels=self._channels)
                gone = await delete_expired(uow, now)
                await uow.commit()
            told, deleted = told + found, deleted + gone
            if found < BATCH and gone < BATCH:
                break
        return told, deleted

    async def pending_reviews(self) -> int:
        """Initiatives waiting for a decision, everywhere."""
        async with self._uow() as uow:
            return await uow.initiatives.count(InitiativeStatus.PENDING)

    async def forget_expired_files(self) -> int:
        """Delete the kept files whose time is up (pictures drawn for a link)."""
        async with self._uow() as uow:
            forgotten = await uow.files.forget_expired(self._clock())
            await uow.commit()
        return forgotten

    async def forget_handled_events(self, older_than: dt.timedelta) -> int:
        """Forget redelivery guards older than any channel redelivers."""
        async with self._uow() as uow:
            forgotten = await uow.inbox.forget_before(self._clock() - older_than)
            await uow.commit()
        return forgotten
