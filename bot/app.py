"""The Application factory: the one place where handlers are registered."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.alerts import OperatorAlerts
from bot.budget import BudgetLimiter, SendBudget
from bot.delivery import Sender
from bot.duty import Duty
from bot.links import deep_link
from bot.metrics import Metrics
from bot.preflight import check_schema
from bot.processor import PerMemberUpdateProcessor
from bot.settings import Settings
from bot.web import Health
from charts import render_card
from domain.commend import Commendations, Schedule
from domain.delivery import DeliveryService
from domain.nudges import NudgePolicy
from domain.service import ConversationService
from domain.text import _
from domain.ui import Card
from handlers.telegram import (
    BotApplication,
    BotContext,
    BotData,
    chat_member_changed,
    deliver,
    group_command,
    keyboard_labels,
    respond,
)
from locales import Translator
from storage.db import create_engine
from storage.lease import Lease, SendCount
from storage.uow import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)

# Shown in Telegram's command menu.
COMMANDS = {
    "new": _("Submit a new initiative"),
    "my": _("My initiatives"),
    "help": _("How to use the bot"),
    "cancel": _("Stop the current step"),
    "unit": _("Change my grassroots union"),
    "lang": _("Language"),
    "settings": _("Reminders on or off"),
    "stats": _("Progress against the target"),
    "top": _("Rankings"),
}
SORRY = _("Sorry, something went wrong on our side. Your answers so far are saved; "
          "please try again in a moment.")  # fmt: skip


Pace = tuple[Callable[[], float], Callable[[float], Awaitable[None]]]


Job = Callable[[BotContext], Coroutine[Any, Any, None]]


def on_duty(job: Job) -> Job:
    """A scheduled job that runs only in the process holding the job lease."""

    async def run(context: BotContext) -> None:
        duty = context.bot_data.duty
        if duty is not None and duty.held:
            await job(context)

    return run


def utc_now() -> dt.datetime:
    """The current time, timezone-aware."""
    return dt.datetime.now(dt.UTC)


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    clock: Callable[[], dt.datetime] = utc_now,
    pace: Pace | None = None,
) -> BotApplication:
    """Build the bot; the database and services are opened in ``post_init``.

    ``pace`` is the sending clock and sleep (monotonic seconds), for benchmarks that run
    time faster than real.
    """
    pace_clock, pace_sleep = pace or (time.monotonic, asyncio.sleep)
    engine = create_engine(settings.database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    translator = Translator(settings.timezone)
    # Several processes may share a PostgreSQL database: they count each second together.
    # (A benchmark's sped-up clock stands for the wall clock too.)
    count = SendCount(units_of_work, pace_clock if pace else time.time)
    shared = count.claim if engine.dialect.name == "postgresql" else None
    budget = SendBudget(settings.broadcast_rate, pace_clock, pace_sleep, shared=shared)
    metrics = Metrics()
    # Leases are timed by the real clock, whatever clock the bot's dates come from.
    holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    lease = Lease(units_of_work, "jobs", holder, dt.timedelta(seconds=settings.job_lease_seconds),
                  utc_now)  # fmt: skip
    schedule = Schedule(settings.weekly_day, settings.weekly_time, settings.timezone)

    async def draw(card: Card, language: str) -> bytes:
        return await asyncio.to_thread(render_card, card, translator, language)

    commendations = Commendations(
        units_of_work, clock=clock, schedule=schedule, render=translator.lines, draw=draw,
        default_language=settings.default_language,
    )  # fmt: skip

    async def post_init(application: BotApplication) -> None:
        # `python -m bot run` upgraded the schema before anything talked to Telegram
        # (BOT_MIGRATE_ON_START); here it is only checked.
        await check_schema(engine, migrate=False)
        service = ConversationService(
            units_of_work,
            clock=clock,
            timezone=settings.timezone,
            default_language=settings.default_language,
            invite_link=lambda payload: deep_link(application.bot.username, payload),
            invite_lifetime=dt.timedelta(days=settings.invite_days),
            schedule=schedule,
            renderer=translator,
            nudge_policy=NudgePolicy(
                drafts=settings.nudge_drafts,
                milestones=settings.nudge_milestones,
                lagging=settings.nudge_lagging,
                quiet_from=settings.nudge_quiet_from,
                quiet_until=settings.nudge_quiet_until,
            ),
        )
        application.bot_data.service = service
        application.bot_data.translator = translator
        application.bot_data.labels = keyboard_labels(translator)
        await _publish_commands(application, translator, settings.default_language)
        deliveries = DeliveryService(units_of_work, clock)
        application.bot_data.deliveries = deliveries
        application.bot_data.commendations = commendations
        application.bot_data.default_language = settings.default_language
        application.bot_data.metrics = metrics
        # The budget limiter makes the bot accept a rate-limit argument (a string).
        sender = Sender(cast(ExtBot[str], application.bot), deliveries, budget, translator,
                        pace_clock, pace_sleep, settings.send_slots, metrics,
                        may_send=lambda: duty.held)  # fmt: skip
        application.bot_data.sender = sender
        duty = Duty(lease, sender, settings.job_lease_seconds,
                    on_processes=lambda live: setattr(count, "processes", live))  # fmt: skip
        application.bot_data.duty = duty

        async def lease_holder() -> str:
            holder = await lease.current()
            return ("held by this process" if holder == lease.holder
                    else f"held by {holder}" if holder else "free")  # fmt: skip

        application.bot_data.health = Health(engine, application.bot, lease_holder)
        await duty.start()
        if application.job_queue is not None:
            application.job_queue.run_repeating(
                on_duty(forget_handled_updates), interval=dt.timedelta(hours=6), first=60
            )
            application.job_queue.run_repeating(
                on_duty(send_nudges), interval=dt.timedelta(hours=1), first=120, name="nudges"
            )
            application.job_queue.run_repeating(
                on_duty(commend), interval=dt.timedelta(minutes=10), first=90, name="weekly"
            )
            application.job_queue.run_daily(
                on_duty(remind_reviewers),
                time=settings.review_reminder_time.replace(tzinfo=settings.timezone),
                name="review_reminders",
            )

    async def commend(_context: BotContext) -> None:
        """Every 10 minutes: at the weekly time, queue the week's commendations (once)."""
        await commendations.run()

    async def remind_reviewers(context: BotContext) -> None:
        """Once a day: what waits too long, to its reviewers, and one level up."""
        after = dt.timedelta(days=settings.review_reminder_days)
        for delivery in await context.service.review_reminders(after):
            await deliver(context, delivery)

    async def send_nudges(context: BotContext) -> None:
        """Every hour: stale drafts, milestones and, on Mondays, lagging units. They go
        through the delivery queue, at Telegram's pace."""
        for delivery in await context.service.nudges_due():
            await deliver(context, delivery)

    async def forget_handled_updates(context: BotContext) -> None:
        """Drop the record of updates old enough that Telegram will not send them again."""
        forgotten = await context.service.forget_handled_events(dt.timedelta(days=7))
        log.info("forgot %s handled updates", forgotten)

    async def post_stop(application: BotApplication) -> None:
        if application.bot_data.duty is not None:
            await application.bot_data.duty.stop()

    async def post_shutdown(_application: BotApplication) -> None:
        units_of_work.dispose()
        await engine.dispose()

    builder = (
        Application.builder()
        .token(settings.telegram_bot_token)
        .base_url(f"{settings.telegram_api_base_url}/bot")
        .base_file_url(f"{settings.telegram_api_base_url}/file/bot")
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .concurrent_updates(
            PerMemberUpdateProcessor(settings.max_concurrent_updates, metrics.handled)
        )
        .rate_limiter(BudgetLimiter(budget, metrics, settings.limit_replies))
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application: BotApplication = builder.build()  # type: ignore[assignment]
    register_handlers(application)
    application.add_error_handler(error_handler(settings, translator, metrics, clock))
    return application


def error_handler(
    settings: Settings, translator: Translator, metrics: Metrics, clock: Callable[[], dt.datetime]
) -> Callable[[object, BotContext], Coroutine[Any, Any, None]]:
    """The one error handler: it logs, tells the member we are on it, and tells the
    operator when ``ALERT_CHAT_ID`` is set (the alerts' window timed by the bot's clock)."""
    chat_id, language = settings.alert_chat_id, settings.default_language
    alerts = OperatorAlerts(chat_id, clock) if chat_id is not None else None

    async def on_error(update: object, context: BotContext) -> None:
        """Log every error that reaches here; tell the member we are on it, and the
        operator."""
        metrics.errors.inc()
        update_id = update.update_id if isinstance(update, Update) else None
        user = update.effective_user if isinstance(update, Update) else None
        log.error("update %s from user %s failed", update_id, user.id if user else None,
                  exc_info=context.error)  # fmt: skip
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is not None:
            try:
                await context.bot.send_message(chat.id, translator.render(SORRY, language))
            except TelegramError:
                log.warning("could not tell chat %s about the error", chat.id)
        if alerts is not None and context.error is not None:
            await alerts.tell(context.bot, context.error, update_id)

    return on_error


def register_handlers(application: BotApplication) -> None:
    """Every handler, in the order they are tried."""
    private_messages = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handlers(
        [
            # Inline buttons: dialog answers, join and language choices, pagination.
            CallbackQueryHandler(respond),
            # Commands, /start with a deep-link payload included.
            MessageHandler(private_messages & filters.COMMAND, respond),
            # Everything else a member sends: text, contacts, photos, documents, stickers.
            MessageHandler(private_messages, respond),
            # /linkchat and /unlinkchat in a unit's group or channel.
            MessageHandler(
                (filters.ChatType.GROUPS | filters.ChatType.CHANNEL)
                & filters.COMMAND
                & ~filters.UpdateType.EDITED,
                group_command,
            ),
            # A member blocks the bot (broadcasts skip them) or unblocks it; the bot is
            # removed from a group or channel.
            ChatMemberHandler(chat_member_changed, ChatMemberHandler.MY_CHAT_MEMBER),
        ]
    )


async def _publish_commands(
    application: BotApplication, translator: Translator, default_language: str
) -> None:
    """Fill Telegram's command menu in each language."""
    for language in translator.languages:
        commands = [BotCommand(name, translator.render(text, language))
                    for name, text in COMMANDS.items()]  # fmt: skip
        code = None if language == default_language else language
        await application.bot.set_my_commands(commands, language_code=code)
