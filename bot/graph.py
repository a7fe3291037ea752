"""The composition root: the process's object graph, built once, in one place."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.metrics import Metrics
from bot.paces import ChannelPaces, free_rates
from bot.settings import Settings
from charts import render_card
from domain.chats import GroupChats
from domain.commend import Commendations, Schedule
from domain.kept import KeptFiles
from domain.nudges import NudgePolicy
from domain.ports_similar import SimilarRules
from domain.privacy_copy import PersonalCopies
from domain.reports import Exporter
from domain.service import ConversationService
from domain.ui import Capabilities, Card
from domain.upkeep import Upkeep
from handlers.public_files import PublicFiles, link_key
from handlers.telegram import CAPABILITIES as TELEGRAM_CAPABILITIES
from handlers.telegram import CHANNEL as TELEGRAM
from handlers.telegram.budget import SendBudget
from handlers.zalo.render import CAPABILITIES as ZALO_CAPABILITIES
from handlers.zalo.render import CHANNEL as ZALO
from locales import Translator
from reports.xlsx import XlsxWriter
from storage.db import create_engine
from storage.lease import Lease, SendCount
from storage.uow import SqlUnitOfWorkFactory


def channels_of(settings: Settings) -> dict[str, Capabilities]:
    """The channels this process serves, and what each can show: each whose token is set.
    A member on another channel gets no queued message (nothing would send it)."""
    channels: dict[str, Capabilities] = {}
    if settings.telegram_bot_token:
        channels[TELEGRAM] = TELEGRAM_CAPABILITIES
    if settings.zalo_bot_token:
        channels[ZALO] = ZALO_CAPABILITIES
    return channels


# The sending clock and sleep (monotonic seconds); benchmarks run time faster than real.
Pace = tuple[Callable[[], float], Callable[[float], Awaitable[None]]]


def utc_now() -> dt.datetime:
    """The current time, timezone-aware."""
    return dt.datetime.now(dt.UTC)


@dataclass
class Graph:
    """Everything one process shares, made before Telegram is reached."""

    settings: Settings
    clock: Callable[[], dt.datetime]
    pace_clock: Callable[[], float]
    pace_sleep: Callable[[float], Awaitable[None]]
    engine: AsyncEngine
    units_of_work: SqlUnitOfWorkFactory
    translator: Translator
    metrics: Metrics
    count: SendCount
    budget: SendBudget
    lease: Lease
    schedule: Schedule
    commendations: Commendations
    channels: dict[str, Capabilities]
    upkeep: Upkeep
    group_chats: GroupChats
    # Files the bot keeps (Zalo's photos and voice notes), and the links to them at
    # PUBLIC_URL, made when Zalo's channel is on and the bot has a public address.
    files: KeptFiles
    public_files: PublicFiles | None
    # Each channel's pace, for an announcement's preview (a paid one once Telegram's
    # channel is made with PAID_BROADCAST on).
    paces: ChannelPaces

    @property
    def similar_rules(self) -> SimilarRules:
        """How similar initiatives are found (SIMILAR_THRESHOLD, SIMILAR_FIELDS)."""
        return self.settings.similar_rules

    def service(self, invite_link: Callable[[str], str]) -> ConversationService:
        """The conversation service; invitation links need the bot's username."""
        settings = self.settings
        return ConversationService(
            self.units_of_work,
            clock=self.clock,
            timezone=settings.timezone,
            default_language=settings.default_language,
            invite_link=invite_link,
            invite_lifetime=dt.timedelta(days=settings.invite_days),
            schedule=self.schedule,
            renderer=self.translator,
            channels=self.channels,
            web_address=settings.public_url,
            exporter=Exporter(self.units_of_work, XlsxWriter(self.translator, settings.timezone)),
            copies=PersonalCopies(
                self.units_of_work, XlsxWriter(self.translator, settings.timezone), self.translator
            ),
            paces=self.paces,
            similar=self.similar_rules,
        )


def build_graph(
    settings: Settings, clock: Callable[[], dt.datetime] = utc_now, pace: Pace | None = None
) -> Graph:
    """Open nothing yet: the engine connects on first use, the lease when started."""
    pace_clock, pace_sleep = pace or (time.monotonic, asyncio.sleep)
    engine = create_engine(settings.database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    translator = Translator(settings.timezone)
    # Several processes may share a PostgreSQL database: they count each second together.
    # (A benchmark's sped-up clock stands for the wall clock too.)
    count = SendCount(units_of_work, pace_clock if pace else time.time)
    shared = count.claim if engine.dialect.name == "postgresql" else None
    budget = SendBudget(settings.broadcast_rate, pace_clock, pace_sleep, shared=shared)
    # Leases are timed by the real clock, whatever clock the bot's dates come from.
    holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    lease = Lease(units_of_work, "jobs", holder, dt.timedelta(seconds=settings.job_lease_seconds),
                  utc_now)  # fmt: skip
    schedule = Schedule(settings.weekly_day, settings.weekly_time, settings.timezone)

    async def draw(card: Card, language: str) -> bytes:
        return await asyncio.to_thread(render_card, card, translator, language)

    channels = channels_of(settings)
    commendations = Commendations(
        units_of_work, clock=clock, schedule=schedule, draw=draw, channels=channels,
    )  # fmt: skip
    upkeep = Upkeep(
        units_of_work, clock=clock, timezone=settings.timezone, channels=channels,
        nudge_policy=NudgePolicy(
            drafts=settings.nudge_drafts, milestones=settings.nudge_milestones,
            lagging=settings.nudge_lagging, quiet_from=settings.nudge_quiet_from,
            quiet_until=settings.nudge_quiet_until,
        ),
    )  # fmt: skip
    return Graph(settings, clock, pace_clock, pace_sleep, engine, units_of_work, translator,
                 Metrics(), count, budget, lease, schedule, commendations, channels, upkeep,
                 GroupChats(units_of_work, clock), KeptFiles(units_of_work, clock),
                 public_files(settings, clock), ChannelPaces(free_rates(settings)))  # fmt: skip


def public_files(settings: Settings, clock: Callable[[], dt.datetime]) -> PublicFiles | None:
    """Links to kept files at PUBLIC_URL, for Zalo's sendPhoto: only Zalo fetches
    pictures from an address, so only with its channel on. They are signed with a key
    derived from Zalo's token, which every process of the bot has."""
    if not (settings.public_url and settings.zalo_bot_token):
        return None
    lifetime = dt.timedelta(hours=settings.public_link_hours)
    return PublicFiles(settings.public_url, link_key(settings.zalo_bot_token), lifetime, clock)
