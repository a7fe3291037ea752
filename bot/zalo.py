"""Zalo's channel plugged into the runtime: the channel's parts (``handlers.zalo``) wired
to the runtime's service, queue, lease and metrics."""

from __future__ import annotations

from typing import Any

from bot.duty import Sending
from bot.preflight import StartError, zalo_refusal
from bot.runtime import Runtime
from bot.web import WebhookRoute
from handlers.zalo.api import SECRET_HEADER, ZaloError, ZaloEvent, ZaloNetworkError, parse_event
from handlers.zalo.channel import ZaloChannel, ZaloWebhook
from handlers.zalo.render import CHANNEL


class ZaloSide:
    """The Zalo channel as the runtime carries it."""

    name = CHANNEL

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        settings, graph = runtime.settings, runtime.graph
        metrics, duty = graph.metrics, runtime.duty

        def handled(_event: ZaloEvent, seconds: float) -> None:
            """Count a handled event and its time."""
            metrics.updates.labels(CHANNEL).inc()
            metrics.latency.observe(seconds)

        self.channel = ZaloChannel.build(
            token=settings.zalo_bot_token, base_url=settings.zalo_api_base_url,
            service=runtime.service, deliveries=runtime.deliveries, translator=graph.translator,
            default_language=settings.default_language, may_send=lambda: duty.held,
            rate=settings.zalo_rate, on_handled=handled,
            concurrency=settings.max_concurrent_updates,
            files=graph.files, public=graph.public_files,
        )  # fmt: skip

    @property
    def sender(self) -> Sending:
        """The Zalo sender, run where the job lease is held."""
        return self.channel.sending

    async def open(self) -> None:
        """Check the token (getMe): a token Zalo refuses or an unreachable server stops
        the start with a sentence saying which."""
        try:
            await self.channel.open()
        except (ZaloError, ZaloNetworkError) as error:
            raise StartError(zalo_refusal(error, self._runtime.settings)) from None

    async def ping(self) -> None:
        """getMe, for the health check."""
        await self.channel.ping()

    def webhook(self) -> WebhookRoute:
        """Zalo's webhook at ZALO_WEBHOOK_URL's path, with its secret header; an event
        bare or in its envelope."""
        settings, channel = self._runtime.settings, self.channel

        async def take(data: Any) -> bool:
            """The event, bare or in its envelope, to the channel in its member's order."""
            event = parse_event(data)
            if event is None:
                return False
            await channel.receive(event)
            return True

        return WebhookRoute(settings.zalo_webhook_path, SECRET_HEADER,
                            settings.zalo_webhook_secret, take, "not an event")  # fmt: skip

    async def receive(self, webhook: bool) -> None:
        """Register the webhook with Zalo (setWebhook), or long-poll getUpdates; a
        refusal stops the start with a sentence saying what to do."""
        settings = self._runtime.settings
        try:
            if webhook:
                await self.channel.start_webhook(
                    ZaloWebhook(settings.zalo_webhook_url, settings.zalo_webhook_secret)
                )
            else:
                await self.channel.start_polling()
        except (ZaloError, ZaloNetworkError) as error:
            raise StartError(zalo_refusal(error, settings)) from None

    async def stop_receiving(self) -> None:
        """Stop polling; a webhook stays registered, so a restart misses nothing."""
        await self.channel.stop_polling()

    async def close(self) -> None:
        """Close the client."""
        await self.channel.close()
