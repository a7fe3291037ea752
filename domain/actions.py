"""Use cases run for a caller without a chat: a web page, a typed command of another
channel, a test.

One call is one short transaction: the acting member is loaded, the use case runs, the
notifications it returns are queued, and everything commits together — or, when the
use case refuses, nothing is written at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from domain.delivery import queue
from domain.errors import NotFound
from domain.model import Member
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.text import _
from domain.ui import Capabilities
from domain.usecase import Notices

R = TypeVar("R")

UseCase = Callable[[UnitOfWork, Member, dt.datetime], Awaitable[R]]


class Actions:
    """Runs a use case on behalf of a member, outside any dialog."""

    def __init__(
        self,
        units_of_work: UnitOfWorkFactory,
        clock: Callable[[], dt.datetime],
        channels: Mapping[str, Capabilities],
    ) -> None:
        self._uow = units_of_work
        self._clock = clock
        self._channels = channels

    async def run(self, actor_id: int, case: UseCase[R]) -> R:
        """Run ``case(uow, actor, now)`` in one transaction and queue what it notifies."""
        now = self._clock()
        async with self._uow() as uow:
            actor = (await uow.members.by_ids([actor_id])).get(actor_id)
            if actor is None:
                raise NotFound(_("This account is not known to the bot."))
            result = await case(uow, actor, now)
            notices = getattr(result, "notices", None)
            if isinstance(notices, Notices):
                await queue(uow, notices.deliveries, now, urgent=True, channels=self._channels,
                            card_updates=notices.card_updates)  # fmt: skip
            await uow.commit()
        return result
