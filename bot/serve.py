"""Running the bot: long polling or webhooks (Telegram's, and Zalo's when its channel is
on), with the HTTP side beside it."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web
from telegram import Update
from telegram.error import TelegramError

from bot.metrics import Metrics
from bot.preflight import StartError, unreachable
from bot.settings import Settings
from bot.web import ZaloRoute, web_app
from handlers.telegram import BotApplication
from handlers.zalo.api import ZaloError, ZaloEvent, ZaloNetworkError, ZaloUnauthorized
from handlers.zalo.channel import ZaloChannel, ZaloWebhook

log = logging.getLogger(__name__)

DEFAULT_HTTP_PORT = 8080


def http_side(
    application: BotApplication,
    settings: Settings,
    webhook: bool,
    zalo: ZaloChannel | None = None,
) -> web.Application:
    """The aiohttp application serving this bot's webhooks, health and metrics; Zalo's
    webhook too in webhook mode when ``zalo`` is given."""
    data = application.bot_data

    async def handle(update: Update) -> None:
        # The same path as a polled update: in the member's order, errors to the handler.
        await application.update_processor.process_update(
            update, application.process_update(update)
        )

    async def refresh(metrics: Metrics) -> None:
        assert data.deliveries is not None and data.upkeep is not None
        metrics.queue_depth.set(await data.deliveries.backlog())
        metrics.pending_reviews.set(await data.upkeep.pending_reviews())
        metrics.lease.set(1 if data.duty is not None and data.duty.held else 0)

    return web_app(
        handle=handle,
        decode=lambda body: Update.de_json(body, application.bot),
        metrics=data.metrics,
        health=data.health,
        refresh=refresh,
        webhook_path=settings.webhook_path if webhook else None,
        secret=settings.webhook_secret,
        zalo=(
            ZaloRoute(settings.zalo_webhook_path, settings.zalo_webhook_secret, zalo.receive)
            if webhook and zalo is not None
            else None
        ),
    )


async def serve(
    application: BotApplication, settings: Settings, *, webhook: bool, stop: asyncio.Event
) -> None:
    """Start the bot, receive updates until ``stop`` is set, then shut down in order."""
    runner: web.AppRunner | None = None
    zalo: ZaloChannel | None = None
    await _open(application, settings)
    try:
        assert application.post_init is not None
        await application.post_init(application)
        await application.start()
        zalo = _build_zalo(application, settings)
        if webhook or settings.http_port is not None:
            runner = web.AppRunner(http_side(application, settings, webhook, zalo))
            await runner.setup()
            port = settings.http_port or DEFAULT_HTTP_PORT
            await web.TCPSite(runner, settings.http_listen, port).start()
            log.info("serving HTTP", extra={"listen": settings.http_listen, "port": port})
        if zalo is not None:
            # After the HTTP side is up: Zalo may post the moment its webhook is set.
            await _start_zalo(zalo, settings, webhook)
        allowed = list(settings.allowed_updates)
        if webhook:
            await application.bot.set_webhook(
                settings.webhook_url,
                secret_token=settings.webhook_secret,
                max_connections=settings.webhook_max_connections,
                allowed_updates=allowed,
            )
            log.info("webhook registered", extra={"path": settings.webhook_path})
        else:
            assert application.updater is not None
            await application.updater.start_polling(allowed_updates=allowed)
        await stop.wait()
    finally:
        if zalo is not None:
            await zalo.stop()
        if runner is not None:
            await runner.cleanup()
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


async def _open(application: BotApplication, settings: Settings) -> None:
    """Initialise the bot. Its getMe is the first request to Telegram: a network that
    cannot reach it, a proxy or a rejected token stops the start with a sentence saying
    which."""
    try:
        await application.initialize()
    except TelegramError as error:
        raise StartError(unreachable(error, settings.telegram_api_base_url)) from None


async def _open_zalo(
    application: BotApplication, settings: Settings, *, webhook: bool = False
) -> ZaloChannel | None:
    """The Zalo channel beside Telegram's, started, when its token is set."""
    zalo = _build_zalo(application, settings)
    if zalo is None:
        return None
    try:
        await _start_zalo(zalo, settings, webhook)
    except StartError:
        await zalo.stop()
        raise
    return zalo


def _build_zalo(application: BotApplication, settings: Settings) -> ZaloChannel | None:
    """The Zalo channel's parts, wired, when its token is set; nothing started yet."""
    if not settings.zalo_bot_token:
        return None
    data = application.bot_data
    assert data.service is not None and data.deliveries is not None
    assert data.translator is not None and data.duty is not None
    duty, metrics = data.duty, data.metrics

    def handled(_event: ZaloEvent, seconds: float) -> None:
        metrics.updates.labels("zalo").inc()
        metrics.latency.observe(seconds)

    return ZaloChannel.build(
        token=settings.zalo_bot_token, base_url=settings.zalo_api_base_url,
        service=data.service, deliveries=data.deliveries, translator=data.translator,
        default_language=settings.default_language, may_send=lambda: bool(duty.held),
        on_handled=handled, concurrency=settings.max_concurrent_updates,
    )  # fmt: skip


async def _start_zalo(zalo: ZaloChannel, settings: Settings, webhook: bool) -> None:
    """Start the channel, polling or with its webhook registered; a token Zalo refuses,
    an unreachable server or a refused webhook stops the start with a sentence saying
    which."""
    target = ZaloWebhook(settings.zalo_webhook_url, settings.zalo_webhook_secret)
    try:
        await zalo.start(target if webhook else None)
    except ZaloUnauthorized:
        raise StartError(
            "Zalo refused ZALO_BOT_TOKEN (401): copy the current token from the Zalo Bot "
            "Creator console."
        ) from None
    except ZaloError as error:
        if error.method == "setWebhook":
            raise StartError(
                f"Zalo refused the webhook ZALO_WEBHOOK_URL={settings.zalo_webhook_url} "
                f"({error}): check that it is a public https address."
            ) from None
        raise StartError(
            f"Cannot reach the Zalo Bot API at {settings.zalo_api_base_url}: {error}"
        ) from None
    except ZaloNetworkError as error:
        raise StartError(
            f"Cannot reach the Zalo Bot API at {settings.zalo_api_base_url}: {error}"
        ) from None


def run_until_signalled(application: BotApplication, settings: Settings, webhook: bool) -> None:
    """Serve until SIGINT or SIGTERM."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(application, settings, webhook=webhook, stop=stop)

    asyncio.run(main())
