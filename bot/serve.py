"""Running the bot: the runtime with every configured channel (Telegram's, Zalo's, or
both), long polling or webhooks, the HTTP side beside them."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
from collections.abc import Callable

from telegram.request import BaseRequest

from bot.app import telegram_channel
from bot.graph import Pace, build_graph, utc_now
from bot.runtime import Runtime
from bot.settings import Settings
from bot.zalo import ZaloSide


def build_runtime(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    clock: Callable[[], dt.datetime] = utc_now,
    pace: Pace | None = None,
) -> Runtime:
    """The process: the runtime, and a channel for each token set. Nothing is opened
    yet (``Runtime.start``).

    ``request`` carries Telegram's requests (a fake in tests); ``pace`` is the sending
    clock and sleep (monotonic seconds), for benchmarks that run time faster than real.
    """
    runtime = Runtime(build_graph(settings, clock, pace))
    if settings.telegram_bot_token:
        runtime.channels.append(telegram_channel(runtime, request=request))
    if settings.zalo_bot_token:
        runtime.channels.append(ZaloSide(runtime))
    return runtime


async def serve(runtime: Runtime, *, webhook: bool, stop: asyncio.Event) -> None:
    """Start the bot, receive updates until ``stop`` is set, then shut down in order."""
    try:
        await runtime.start()
        # With PUBLIC_URL, Zalo fetches the pictures it is sent from the HTTP side.
        if webhook or runtime.settings.http_port is not None or runtime.settings.public_url:
            await runtime.serve_http(webhook)
        await runtime.receive(webhook)
        await stop.wait()
    finally:
        await runtime.stop()


def run_until_signalled(runtime: Runtime, webhook: bool) -> None:
    """Serve until SIGINT or SIGTERM."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(runtime, webhook=webhook, stop=stop)

    asyncio.run(main())
