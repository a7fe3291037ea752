"""The Zalo channel in a running process: its API client, the poller that brings
members' messages to the core (by long polling, or as the webhook posts them), and the
sender of queued notifications."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from domain.delivery import DeliveryService
from domain.service import ConversationService
from handlers.zalo.api import ZaloApi, ZaloError, ZaloEvent, ZaloUnauthorized
from handlers.zalo.poller import ZaloPoller
from handlers.zalo.sender import ZaloSender
from handlers.zalo.webhook import DEFAULT_CONCURRENCY, MemberOrder
from locales import Translator

log = logging.getLogger(__name__)

# Messages a second to Zalo: the platform documents no limit, so a cautious pace.
DEFAULT_RATE = 5.0


@dataclass(frozen=True)
class ZaloWebhook:
    """Where Zalo posts events in webhook mode, and the secret it sends back."""

    url: str
    secret: str


class ZaloChannel:
    """Starts and stops the Zalo side of the bot."""

    def __init__(
        self,
        api: ZaloApi,
        poller: ZaloPoller,
        sender: ZaloSender,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self._api = api
        self._poller = poller
        self._sender = sender
        # Webhook mode: each posted event, in its member's order, down the poller's path.
        self.receive = MemberOrder(poller.handle, concurrency)
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
        on_handled: Callable[[ZaloEvent, float], None] | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> ZaloChannel:
        """The channel's parts, wired."""
        api = ZaloApi(token, base_url)
        poller = ZaloPoller(api, service, translator, default_language, on_handled=on_handled)
        sender = ZaloSender(api, deliveries, translator, default_language, rate,
                            may_send=may_send)  # fmt: skip
        return cls(api, poller, sender, concurrency)

    async def start(self, webhook: ZaloWebhook | None = None) -> None:
        """Check the token (getMe); then register ``webhook`` (events come to
        ``receive``) or, without one, poll; and send in the background.

        A webhook stays registered when the bot stops, as Telegram's does, so a restart
        misses nothing; polling removes it first, since getUpdates gets nothing while
        one is set."""
        bot = await self._api.get_me()
        log.info("Zalo bot %s connected", bot.name)
        self._tasks = [asyncio.create_task(self._sender.run(self._stop), name="zalo-sender")]
        if webhook is not None:
            await self._api.set_webhook(webhook.url, webhook.secret)
            log.info("Zalo webhook registered")
            return
        try:
            # A webhook left registered would keep getUpdates silent.
            await self._api.delete_webhook()
        except ZaloUnauthorized:
            raise
        except ZaloError as error:
            log.warning("Zalo deleteWebhook failed (polling anyway): %s", error)
        self._tasks.append(asyncio.create_task(self._poller.run(self._stop), name="zalo-poller"))

    async def stop(self) -> None:
        """Stop polling and sending, and close the client."""
        self._stop.set()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ZaloError):
                await task
        await self._api.close()
