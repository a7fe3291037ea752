"""The process, whatever channels it serves: the object graph, the conversation service,
the delivery queue, the job lease and the senders it runs, the scheduled jobs, health
and the HTTP side. Telegram's application (``bot.app``) and Zalo's channel
(``bot.zalo``) plug into it as ``Channel``s.

Everything is opened in ``start`` (and ``serve_http``, ``receive``) and closed in
``stop``, in reverse order, however far the start got.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web

from bot.duty import Duty, Sending
from bot.graph import Graph
from bot.jobs import Jobs
from bot.metrics import Metrics
from bot.preflight import check_schema
from bot.settings import Settings
from bot.web import FileRoute, Health, WebhookRoute, web_app
from charts import render_png
from domain.actions import Actions
from domain.delivery import DeliveryService
from domain.ports_files import ChannelFiles
from domain.reports import Exporter
from domain.ui import Chart
from handlers.telegram import CHANNEL as TELEGRAM
from handlers.web import WebConfig, web_view
from reports.xlsx import XlsxWriter

log = logging.getLogger(__name__)

DEFAULT_HTTP_PORT = 8080


def typed_invitation(payload: str) -> str:
    """An invitation without Telegram's deep links: the command to send the bot."""
    return f"/start {payload}"


class Channel(Protocol):
    """A front end the runtime carries: Telegram's, Zalo's."""

    @property
    def name(self) -> str:
        """The channel's name, as members' rows and the delivery queue know it."""

    @property
    def sender(self) -> Sending:
        """Its sender of queued messages, run where the job lease is held."""

    async def open(self) -> None:
        """Reach the platform and check the token; plug into the runtime. A refusal
        raises StartError with a sentence saying what to do."""

    async def ping(self) -> None:
        """Ask the platform whether it answers (health); raise when it does not."""

    def webhook(self) -> WebhookRoute:
        """The route its platform posts updates to, in webhook mode."""

    async def receive(self, webhook: bool) -> None:
        """Start taking updates: long polling, or its webhook registered."""

    async def stop_receiving(self) -> None:
        """Stop taking updates."""

    async def close(self) -> None:
        """Let go of the platform."""


class Runtime:
    """One bot process: what every channel shares, and the channels it carries."""

    def __init__(self, graph: Graph) -> None:
        settings = graph.settings
        self.graph = graph
        self.settings: Settings = settings
        self.metrics: Metrics = graph.metrics
        # A group chat that no unit linked is taken for Telegram's, the one channel with
        # group chats; without Telegram, such chats get nothing.
        chats = TELEGRAM if TELEGRAM in graph.channels else None
        self.deliveries = DeliveryService(graph.units_of_work, graph.clock, chats)
        # Telegram's deep links once its bot is known; else the command to send.
        self.invite_link: Callable[[str], str] = typed_invitation
        self.service = graph.service(lambda payload: self.invite_link(payload))
        # The processes alive share the send budget (Telegram's on PostgreSQL).
        self.duty = Duty(
            graph.lease, settings.job_lease_seconds, recover=self.deliveries.recover,
            on_processes=lambda live: setattr(graph.count, "processes", live),
        )  # fmt: skip
        self.jobs = Jobs(settings, graph.commendations, graph.upkeep,
                         on_duty=self.duty.renew, wake=self.duty.wake,
                         failed=self.failed)  # fmt: skip
        self.health = Health(graph.engine, self._lease_holder)
        # Tells an operator of an error (Telegram's ALERT_CHAT_ID), when a channel can.
        self.alert: Callable[[BaseException], Awaitable[None]] | None = None
        # Fetches files by a channel's own file id for the web view (Telegram's, when on).
        self.channel_files: ChannelFiles | None = None
        self.channels: list[Channel] = []
        self._stack = contextlib.AsyncExitStack()

    def channel(self, name: str) -> Channel:
        """The channel of that name."""
        for channel in self.channels:
            if channel.name == name:
                return channel
        raise KeyError(f"no {name} channel here: its token is not set")

    async def start(self) -> None:
        """Check the schema; open every channel (its sender to the lease, its platform to
        the health report); then take part in the lease and start the jobs."""
        stack = self._stack
        stack.push_async_callback(self._close_database)
        # `python -m bot run` upgraded the schema before anything talked to a platform
        # (BOT_MIGRATE_ON_START); here it is only checked.
        await check_schema(self.graph.engine, migrate=False)
        for channel in self.channels:
            stack.push_async_callback(channel.close)
            await channel.open()
            self.duty.add(channel.sender)
            self.health.watch(channel.name, channel.ping)
        stack.push_async_callback(self.duty.stop)
        await self.duty.start()
        stack.push_async_callback(self.jobs.stop)
        self.jobs.start()

    async def serve_http(self, webhook: bool) -> None:
        """Serve health, metrics and, in webhook mode, every channel's webhook, on
        HTTP_LISTEN:HTTP_PORT."""
        runner = web.AppRunner(self.http_side(webhook))
        await runner.setup()
        self._stack.push_async_callback(runner.cleanup)
        port = self.settings.http_port or DEFAULT_HTTP_PORT
        await web.TCPSite(runner, self.settings.http_listen, port).start()
        log.info("serving HTTP", extra={"listen": self.settings.http_listen, "port": port})

    def http_side(self, webhook: bool) -> web.Application:
        """The aiohttp application serving health, metrics and, in webhook mode, the
        channels' webhooks."""
        routes = [channel.webhook() for channel in self.channels] if webhook else []
        public = self.graph.public_files
        files = FileRoute(public, self.graph.files) if public is not None else None
        return web_app(metrics=self.metrics, health=self.health, refresh=self._refresh,
                       webhooks=routes, files=files, staff=self._staff_view())  # fmt: skip

    def _staff_view(self) -> web.Application | None:
        """The staff web view at PUBLIC_URL/web, when the bot has a public address."""
        settings, graph = self.settings, self.graph
        if not settings.public_url:
            return None
        return web_view(WebConfig(
            graph.units_of_work, Actions(graph.units_of_work, graph.clock, graph.channels),
            graph.translator, graph.clock, secure=settings.public_url.startswith("https://"),
            session_lifetime=dt.timedelta(hours=settings.web_session_hours),
            default_language=settings.default_language,
            telegram_token=settings.telegram_bot_token,
            init_data_max_age=dt.timedelta(hours=settings.web_init_data_hours),
            timezone=settings.timezone,
            exporter=Exporter(graph.units_of_work, XlsxWriter(graph.translator, settings.timezone)),
            chart=self._draw_chart, channel_files=self.channel_files,
        ))  # fmt: skip

    async def _draw_chart(self, chart: Chart, language: str) -> bytes:
        """A progress chart as a PNG, drawn off the event loop."""
        return await asyncio.to_thread(render_png, chart, self.graph.translator, language)

    async def receive(self, webhook: bool) -> None:
        """Every channel takes updates: long polling, or webhooks (after the HTTP side is
        up: a platform may post the moment its webhook is set)."""
        for channel in self.channels:
            self._stack.push_async_callback(channel.stop_receiving)
            await channel.receive(webhook)

    async def stop(self) -> None:
        """Undo the start in reverse: stop receiving, the HTTP side, the jobs, the lease
        and its senders, the channels, the database."""
        stack, self._stack = self._stack, contextlib.AsyncExitStack()
        await stack.aclose()

    async def failed(self, where: str, error: BaseException) -> None:
        """Something outside a member's update failed (a job): log it, count it, and tell
        the operator."""
        self.metrics.errors.inc()
        log.error("%s failed", where, exc_info=error)
        if self.alert is not None:
            await self.alert(error)

    async def _refresh(self, metrics: Metrics) -> None:
        """The gauges read at each scrape."""
        metrics.queue_depth.set(await self.deliveries.backlog())
        metrics.pending_reviews.set(await self.graph.upkeep.pending_reviews())
        metrics.lease.set(1 if self.duty.held else 0)

    async def _lease_holder(self) -> str:
        """Who holds the job lease, for the health report."""
        lease = self.graph.lease
        holder = await lease.current()
        return ("held by this process" if holder == lease.holder
                else f"held by {holder}" if holder else "free")  # fmt: skip

    async def _close_database(self) -> None:
        """Close the database's connections."""
        self.graph.units_of_work.dispose()
        await self.graph.engine.dispose()
