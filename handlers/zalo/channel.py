"""The Zalo channel in a running process: its API client, the poller that brings
members' messages to the core, and the sender of queued notifications."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from domain.delivery import DeliveryService
from domain.service import ConversationService
from handlers.zalo.api import ZaloApi, ZaloError
from handlers.zalo.poller import ZaloPoller
from handlers.zalo.sender import ZaloSender
from locales import Translator

log = logging.getLogger(__name__)

# Messages a second to Zalo: the platform documents no limit, so a cautious pace.
DEFAULT_RATE = 5.0


class ZaloChannel:
    """Starts and stops the Zalo side of the bot."""

    def __init__(self, api: ZaloApi, poller: ZaloPoller, sender: ZaloSender) -> None:
        self._api = api
        self._poller = poller
        self._sender = sender
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def poller(self) -> ZaloPoller:
        """The poller, whose count of handled events tests wait on."""
        return self._poller

    @property
    def sender(self) -> ZaloSender:
        """The sender of queued notifications."""
        return self._sender

    @classmethod
    def build(
        cls,
        *,
        token: str,
        base_url: str,
        service: ConversationService,
        deliveries: DeliveryService,
        translator: Translator,
        default_language: str,
        may_send: Callable[[], bool],
        rate: float = DEFAULT_RATE,
    ) -> ZaloChannel:
        """The channel's parts, wired."""
        api = ZaloApi(token, base_url)
        poller = ZaloPoller(api, service, translator, default_language)
        sender = ZaloSender(api, deliveries, translator, default_language, rate,
                            may_send=may_send)  # fmt: skip
        return cls(api, poller, sender)

    async def start(self) -> None:
        """Check the token (getMe), then poll and send in the background."""
        bot = await self._api.get_me()
        log.info("Zalo bot %s connected", bot.name)
        self._tasks = [
            asyncio.create_task(self._poller.run(self._stop), name="zalo-poller"),
            asyncio.create_task(self._sender.run(self._stop), name="zalo-sender"),
        ]

    async def stop(self) -> None:
        """Stop polling and sending, and close the client."""
        self._stop.set()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ZaloError):
                await task
        await self._api.close()
