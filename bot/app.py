"""The Application factory: the one place where handlers are registered."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Coroutine
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
from bot.duty import Duty
from bot.graph import Graph, Pace, build_graph, utc_now
from bot.jobs import Jobs
from bot.links import deep_link
from bot.metrics import Metrics
from bot.preflight import check_schema
from bot.settings import Settings
from bot.web import Health
from domain.delivery import DeliveryService
from domain.text import _
from handlers.telegram import (
    CHANNEL,
    BotApplication,
    BotContext,
    BotData,
    chat_member_changed,
    group_command,
    keyboard_labels,
    respond,
)
from handlers.telegram.budget import BudgetLimiter
from handlers.telegram.processor import PerMemberUpdateProcessor
from handlers.telegram.sender import Sender
from locales import Translator

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


class Lifecycle:
    """Opens what needs Telegram or the database once the Application is initialised, and
    closes it all at the end; the object graph itself is built before (``build_graph``)."""

    def __init__(self, graph: Graph) -> None:
        self._graph = graph

    async def post_init(self, application: BotApplication) -> None:
        """The service, the sender and its lease, health, and the jobs."""
        graph, settings = self._graph, self._graph.settings
        # `python -m bot run` upgraded the schema before anything talked to Telegram
        # (BOT_MIGRATE_ON_START); here it is only checked.
        await check_schema(graph.engine, migrate=False)
        data = application.bot_data
        data.service = graph.service(lambda payload: deep_link(application.bot.username, payload))
        data.upkeep = graph.upkeep
        data.group_chats = graph.group_chats
        data.translator = graph.translator
        data.labels = keyboard_labels(graph.translator)
        await _publish_commands(application, graph.translator, settings.default_language)
        # A group chat that no unit linked is taken for Telegram's, the one with group chats.
        data.deliveries = DeliveryService(graph.units_of_work, graph.clock, CHANNEL)
        data.commendations = graph.commendations
        data.default_language = settings.default_language
        data.metrics = graph.metrics
        data.duty = self._duty(application)
        data.health = Health(graph.engine, application.bot, self._lease_holder)
        await data.duty.start()
        if application.job_queue is not None:
            Jobs(settings, graph.commendations).schedule(application.job_queue)

    def _duty(self, application: BotApplication) -> Duty:
        """The sender, and the lease that decides which process runs it and the jobs."""
        graph, data = self._graph, application.bot_data
        assert data.deliveries is not None
        # The budget limiter makes the bot accept a rate-limit argument (a string).
        data.sender = Sender(cast(ExtBot[str], application.bot), data.deliveries, graph.budget,
                             graph.translator, graph.pace_clock, graph.pace_sleep,
                             graph.settings.send_slots, graph.metrics,
                             may_send=lambda: duty.held,
                             default_language=graph.settings.default_language)  # fmt: skip
        duty = Duty(graph.lease, data.sender, graph.settings.job_lease_seconds,
                    on_processes=lambda live: setattr(graph.count, "processes", live))  # fmt: skip
        return duty

    async def _lease_holder(self) -> str:
        lease = self._graph.lease
        holder = await lease.current()
        return ("held by this process" if holder == lease.holder
                else f"held by {holder}" if holder else "free")  # fmt: skip

    async def post_stop(self, application: BotApplication) -> None:
        """Stop sending and give the lease back."""
        if application.bot_data.duty is not None:
            await application.bot_data.duty.stop()

    async def post_shutdown(self, _application: BotApplication) -> None:
        """Close the database."""
        self._graph.units_of_work.dispose()
        await self._graph.engine.dispose()


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
    graph = build_graph(settings, clock, pace)
    life = Lifecycle(graph)
    builder = (
        Application.builder()
        .token(settings.telegram_bot_token)
        .base_url(f"{settings.telegram_api_base_url}/bot")
        .base_file_url(f"{settings.telegram_api_base_url}/file/bot")
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .concurrent_updates(
            PerMemberUpdateProcessor(settings.max_concurrent_updates, graph.metrics.handled)
        )
        .rate_limiter(BudgetLimiter(graph.budget, graph.metrics, settings.limit_replies))
        .post_init(life.post_init)
        .post_stop(life.post_stop)
        .post_shutdown(life.post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application: BotApplication = builder.build()  # type: ignore[assignment]
    register_handlers(application)
    application.add_error_handler(error_handler(settings, graph.translator, graph.metrics, clock))
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
