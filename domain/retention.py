"""Drafts left untouched for long are deleted, after a notice: the personal data a member
started to give and never sent is not kept for ever.

A draft untouched for the retention period gets its writer a notice through the delivery
queue; if it is still untouched (neither changed nor opened) 14 days later, it goes. A
writer who cannot be reached, or who erased their data, is not told; the draft goes all
the same.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from domain.dialog import ResumeDraft
from domain.erased import title_text
from domain.model import Initiative
from domain.ports import UnitOfWork
from domain.text import Day, _
from domain.ui import Button, Delivery, Reply

# How long after the notice an untouched draft is deleted.
NOTICE_AHEAD = dt.timedelta(days=14)
# Drafts handled per transaction: a year's backlog on the first run takes several.
BATCH = 200


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """The same moment ``months`` calendar months earlier (the 31st becomes the month's last)."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    day = moment.day
    while True:
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            day -= 1


def notice(draft: Initiative, deleted_on: dt.date) -> Reply:
    """Your draft will be deleted on that day unless you open it."""
    text = _("Your draft {number} «{title}» has not been touched for a long time: it will be "
             "deleted on {day} unless you open it.", number=draft.number,
             title=title_text(draft.title, "…"), day=Day(deleted_on))  # fmt: skip
    return Reply((text,), ((Button(_("▶️ Continue"), ResumeDraft(draft.id).encode()),),))


async def notices_due(
    uow: UnitOfWork, now: dt.datetime, months: int, timezone: ZoneInfo
) -> tuple[int, list[Delivery]]:
    """One batch of drafts untouched for ``months`` months, each marked as told of: how
    many, and the notices to their writers who can be told."""
    await uow.erasure.clear_touched(BATCH)
    found = await uow.erasure.stale_drafts(months_before(now, months), BATCH)
    deleted_on = (now + NOTICE_AHEAD).astimezone(timezone).date()
    deliveries = [Delivery(writer, notice(draft, deleted_on))
                  for draft, writer in found if writer is not None]  # fmt: skip
    await uow.erasure.noticed([draft.id for draft, _writer in found], now)
    return len(found), deliveries


async def delete_expired(uow: UnitOfWork, now: dt.datetime) -> int:
    """One batch of drafts told of long enough ago and untouched since, deleted."""
    expired = await uow.erasure.expired_drafts(now - NOTICE_AHEAD, BATCH)
    return await uow.erasure.delete_drafts(expired)
