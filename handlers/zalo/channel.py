"""The Zalo channel in a running process: its API client, the poller that brings
members' messages to the core (by long polling, or as the webhook posts them), and the
sender of queued notifications, which the job lease starts and stops (``sending``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from domain.delivery import DeliveryService
from domain.kept import KeptFiles
from domain.service import ConversationService
from handlers.public_files import PublicFiles
from handlers.zalo.api import ZaloApi, ZaloBot, ZaloError, ZaloEvent, ZaloUnauthorized
from handlers.zalo.inbound import FileKeeper
from handlers.zalo.pictures import ZaloPictures
from handlers.zalo.poller import ZaloPoller
from handlers.zalo.sender import ZaloSender
from handlers.zalo.webhook import DEFAULT_CONCURRENCY
from locales import Translator

log = logging.getLogger(__name__)

# Messages a second to Zalo (ZALO_RATE): the platform documents no limit, so a cautious
# pace.
DEFAULT_RATE = 5.0


@dataclass(frozen=True)
class ZaloWebhook:
    """Where Zalo posts events in webhook mode, and the secret it sends back."""

    url: str
    secret: str


class ZaloSending:
    """The Zalo sender as the job lease runs it: sending while this process holds the
    lease, stopped when it does not."""

    def __init__(self, sender: ZaloSender) -> None:
        self._sender = sender
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether it is sending (not stopped, not crashed)."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Send in the background (again, after a stop)."""
        self._stop = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(
            self._sender.run(self._stop), name="zalo-sender"
        )

    async def stop(self) -> None:
        """Stop at once. A message caught between "sending" and "sent" goes again when
        the next holder of the lease puts such rows back in the queue."""
        self._stop.set()
        self.kill()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, ZaloError):
                await self._task

    def kill(self) -> None:
        """Stop without waiting, as a crash would (for tests)."""
        if self._task is not None:
            self._task.cancel()

    def wake(self) -> None:
        """Nothing to do: the sender looks at the queue every second."""


class ZaloChannel:
    """Opens, starts and stops the Zalo side of the bot."""

    def __init__(
        self,
        api: ZaloApi,
        poller: ZaloPoller,
        sender: ZaloSender,
    ) -> None:
        self._api = api
        self._poller = poller
        self.sending = ZaloSending(sender)
        # Webhook mode: each posted event, in its member's order, down the poller's path
        # (the same ordering and bound as polled events).
        self.receive = poller.order
        self._stop = asyncio.Event()
        self._polling: asyncio.Task[None] | None = None

    @property
    def poller(self) -> ZaloPoller:
        """The poller, whose count of handled events tests wait on."""
        return self._poller

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
        files: KeptFiles | None = None,
        public: PublicFiles | None = None,
    ) -> ZaloChannel:
        """The channel's parts, wired; members' photos and voice notes are kept in
        ``files``, and pictures go as photos when the bot has a ``public`` address."""
        api = ZaloApi(token, base_url)
        pictures = ZaloPictures(translator, files, public)
        keeper = FileKeeper(api, files) if files is not None else None
        poller = ZaloPoller(api, service, translator, default_language, on_handled=on_handled,
                            concurrency=concurrency, keeper=keeper,
                            pictures=pictures)  # fmt: skip
        sender = ZaloSender(api, deliveries, translator, default_language, rate,
                            may_send=may_send, pictures=pictures)  # fmt: skip
        return cls(api, poller, sender)

    async def open(self) -> ZaloBot:
        """Check the token: Zalo's getMe, the bot it names."""
        bot = await self._api.get_me()
        log.info("Zalo bot %s connected", bot.name)
        return bot

    async def ping(self) -> None:
        """Ask Zalo whether it answers (getMe), for the health check."""
        await self._api.get_me()

    async def start_webhook(self, webhook: ZaloWebhook) -> None:
        """Register ``webhook``: events then come to ``receive``. It stays registered
        when the bot stops, as Telegram's does, so a restart misses nothing."""
        await self._api.set_webhook(webhook.url, webhook.secret)
        log.info("Zalo webhook registered")

    async def start_polling(self) -> None:
        """Long-poll getUpdates in the background, once a webhook left registered is
        removed (while one is set, getUpdates gets nothing)."""
        try:
            await self._api.delete_webhook()
        except ZaloUnauthorized:
            raise
        except ZaloError as error:
            log.warning("Zalo deleteWebhook failed (polling anyway): %s", error)
        self._stop = asyncio.Event()
        self._polling = asyncio.create_task(self._poller.run(self._stop), name="zalo-poller")

    async def stop_polling(self) -> None:
        """Stop polling at once: the long poll in progress is cancelled."""
        self._stop.set()
        if self._polling is not None:
            self._polling.cancel()
            with contextlib.suppress(asyncio.CancelledError, ZaloError):
                await self._polling
            self._polling = None

    async def close(self) -> None:
        """Close the client (the sender and the poller stopped first)."""
        await self._api.close()
