"""The Zalo sender: takes Zalo's rows from the delivery queue and sends them at a pace
of its own, since the platform documents no limit (``ZALO_RATE``), backing off on 429."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from domain.delivery import DeliveryService, Outgoing
from domain.numbered import numbered
from domain.ui import Reply
from handlers.zalo.api import ZaloApi, ZaloError, ZaloNetworkError, ZaloRateLimited
from handlers.zalo.pictures import NO_PICTURE, Message, ZaloPictures, deliver
from handlers.zalo.render import CHANNEL
from locales import Translator

log = logging.getLogger(__name__)

BATCH = 20
# Seconds to look again when the queue was empty, and to wait after a 429.
IDLE, BACK_OFF = 1.0, 30.0


class ZaloSender:
    """Sends queued notifications to Zalo members, one at a time, ``rate`` a second."""

    def __init__(
        self,
        api: ZaloApi,
        deliveries: DeliveryService,
        translator: Translator,
        default_language: str,
        rate: float,
        *,
        may_send: Callable[[], bool] = lambda: True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        pictures: ZaloPictures | None = None,
    ) -> None:
        self._api = api
        self._pictures = pictures or ZaloPictures(translator)
        self._deliveries = deliveries
        self._translator = translator
        self._default_language = default_language
        self._interval = 1.0 / rate
        # Only the process holding the job lease sends, as for Telegram.
        self._may_send = may_send
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop`` is set; a failing round is retried after a pause."""
        while not stop.is_set():
            if not self._may_send():
                await self._sleep(IDLE)
                continue
            try:
                sent = await self.round()
            except Exception:
                log.exception("Zalo sending round failed; retrying in %s s", IDLE)
                sent = 0
            if not sent:
                await self._sleep(IDLE)

    async def round(self) -> int:
        """Claim a batch of Zalo's rows and send them; return how many were taken."""
        batch = await self._deliveries.claim(CHANNEL, BATCH)
        for item in batch:
            await self._send(item)
        return len(batch)

    async def _send(self, item: Outgoing) -> None:
        said = await self._deliveries.content(item.broadcast_id)
        if said is None:
            await self._deliveries.refused(item, "nothing to send")
            return
        language = item.language or self._default_language
        messages = await self._messages(item, said, language)
        message_id: str | None = None
        try:
            for message in messages:
                await self._pace()
                message_id = await deliver(self._api, item.chat_id, message)
        except (ZaloRateLimited, ZaloNetworkError):
            await self._deliveries.later(item)
            await self._sleep(BACK_OFF)
            return
        except ZaloError as error:
            # Zalo documents no answer that means "this user cannot be messaged" (its 403
            # is "internal error"): refusals are retried a few times, then recorded failed.
            await self._deliveries.failed(item, str(error))
            return
        await self._deliveries.sent(item, None)
        if item.member_id is not None:
            # A number typed next answers these choices, as after a reply.
            choices = tuple(choice.stored() for choice in numbered(said))
            await self._deliveries.shown(item.member_id, choices)
        log.debug("Zalo message %s sent as %s", item.id, message_id)

    async def _messages(self, item: Outgoing, said: Reply, language: str) -> list[Message]:
        """The message in the reader's language, with its broadcast's picture if it has one."""
        picture = NO_PICTURE
        if item.photo or item.has_image:
            picture = await self._deliveries.picture(item)
        return await self._pictures.messages(said, language, picture)

    async def _pace(self) -> None:
        now = self._clock()
        if self._next > now:
            await self._sleep(self._next - now)
        self._next = max(now, self._next) + self._interval
