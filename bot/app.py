"""Telegram's channel: the Application, the one place where its handlers are
registered, plugged into the runtime (``bot.runtime``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
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
from bot.links import deep_link
from bot.metrics import Metrics
from bot.paces import telegram_paid
from bot.preflight import StartError, unreachable
from bot.runtime import Runtime
from bot.settings import Settings
from bot.web import SECRET_HEADER, WebhookRoute, is_update_id
from domain.text import Text, _
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
from handlers.telegram.files import TelegramFiles
from handlers.telegram.kept import KeptUploads
from handlers.telegram.processor import PerMemberUpdateProcessor
from handlers.telegram.sender import Sender
from locales import Translator

log = logging.getLogger(__name__)

# Shown in Telegram's command menu.
COMMANDS = {
    "new": _("Submit a new initiative"),
    "my": _("My initiatives"),
    "xem": _("View an initiative by its number"),
    "help": _("How to use the bot"),
    "cancel": _("Stop the current step"),
    "unit": _("Change my grassroots union"),
    "lang": _("Language"),
    "settings": _("My name, phone and reminders"),
    "stats": _("Progress against the target"),
    "top": _("Rankings"),
    "claimcode": _("Code for a member you entered to claim their record (helpers)"),
}
# Shown too when the bot also runs on Zalo.
LINK_COMMAND = {"link": _("Link my Telegram and Zalo accounts")}
SORRY = _("Sorry, something went wrong on our side. Your answers so far are saved; "
          "please try again in a moment.")  # fmt: skip


class TelegramChannel:
    """Telegram's application plugged into the runtime: its bot, its sender and its
    webhook; the handlers read the runtime's shared parts from ``bot_data``."""

    name = CHANNEL

    def __init__(self, runtime: Runtime, application: BotApplication) -> None:
        self._runtime = runtime
        self.application = application
        graph, settings = runtime.graph, runtime.settings
        # Files the bot keeps (a Zalo member's photos), uploaded once, then by file id.
        self.kept = KeptUploads(graph.files)
        # The budget limiter makes the bot accept a rate-limit argument (a string).
        self.sender = Sender(cast(ExtBot[str], application.bot), runtime.deliveries,
                             graph.budget, graph.translator, graph.pace_clock, graph.pace_sleep,
                             settings.send_slots, graph.metrics,
                             may_send=lambda: runtime.duty.held,
                             default_language=settings.default_language,
                             kept=self.kept,
                             paid=telegram_paid(graph, application.bot))  # fmt: skip

    async def open(self) -> None:
        """getMe, the first request to Telegram (a network that cannot reach it, a proxy
        or a rejected token stops the start with a sentence saying which); then the
        shared parts to the handlers, the command menu, and update processing."""
        runtime, application = self._runtime, self.application
        try:
            await application.initialize()
        except TelegramError as error:
            raise StartError(unreachable(error, runtime.settings.telegram_api_base_url)) from None
        username = application.bot.username
        runtime.invite_link = lambda payload: deep_link(username, payload)
        self._share()
        menu = {**COMMANDS, **(LINK_COMMAND if runtime.settings.zalo_bot_token else {})}
        await _publish_commands(application, runtime.graph.translator,
                                runtime.settings.default_language, menu)  # fmt: skip
        await application.start()

    def _share(self) -> None:
        """What the handlers (and tests) read from ``bot_data``."""
        runtime, graph, data = self._runtime, self._runtime.graph, self.application.bot_data
        data.service = runtime.service
        data.upkeep = graph.upkeep
        data.group_chats = graph.group_chats
        data.translator = graph.translator
        data.labels = keyboard_labels(graph.translator)
        data.deliveries = runtime.deliveries
        data.commendations = graph.commendations
        data.default_language = runtime.settings.default_language
        data.metrics = graph.metrics
        data.sender = self.sender
        data.kept = self.kept
        data.duty = runtime.duty
        data.health = runtime.health

    async def ping(self) -> None:
        """getMe, for the health check."""
        await self.application.bot.get_me(read_timeout=5, connect_timeout=5)

    def webhook(self) -> WebhookRoute:
        """Telegram's webhook at WEBHOOK_URL's path, with its secret header."""
        application, settings = self.application, self._runtime.settings

        async def take(data: Any) -> bool:
            """The update to the application, once it is one."""
            try:
                if not isinstance(data, dict) or not is_update_id(data.get("update_id")):
                    return False
                update = Update.de_json(data, application.bot)
            except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
                return False
            # The same path as a polled update: in the member's order, errors to the handler.
            await application.update_processor.process_update(
                update, application.process_update(update)
            )
            return True

        return WebhookRoute(settings.webhook_path, SECRET_HEADER, settings.webhook_secret, take)

    async def receive(self, webhook: bool) -> None:
        """Register the webhook, or long-poll getUpdates."""
        settings = self._runtime.settings
        allowed = list(settings.allowed_updates)
        if webhook:
            await self.application.bot.set_webhook(
                settings.webhook_url,
                secret_token=settings.webhook_secret,
                max_connections=settings.webhook_max_connections,
                allowed_updates=allowed,
            )
            log.info("webhook registered", extra={"path": settings.webhook_path})
        else:
            assert self.application.updater is not None
            await self.application.updater.start_polling(allowed_updates=allowed)

    async def stop_receiving(self) -> None:
        """Stop polling (a webhook stays registered, so a restart misses nothing)."""
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()

    async def close(self) -> None:
        """Stop processing updates and let go of the bot."""
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()


def telegram_channel(runtime: Runtime, *, request: BaseRequest | None = None) -> TelegramChannel:
    """Telegram's channel on ``runtime``: the Application with every handler registered;
    it reaches Telegram when the runtime starts."""
    settings, graph = runtime.settings, runtime.graph
    builder = (
        Application.builder()
        .token(settings.telegram_bot_token)
        .base_url(f"{settings.telegram_api_base_url}/bot")
        .base_file_url(f"{settings.telegram_api_base_url}/file/bot")
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .concurrent_updates(
            PerMemberUpdateProcessor(settings.max_concurrent_updates, graph.metrics.handled)
        )
        .rate_limiter(BudgetLimiter(graph.budget, graph.metrics))
        # The jobs run on the runtime's own clock (bot.jobs), whatever channels run.
        .job_queue(None)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application: BotApplication = builder.build()  # type: ignore[assignment]
    register_handlers(application)
    # The web view shows the photos and recordings members sent here.
    runtime.channel_files = TelegramFiles(application.bot)
    chat_id = settings.alert_chat_id
    alerts = OperatorAlerts(chat_id, graph.clock) if chat_id is not None else None
    if alerts is not None:
        runtime.alert = lambda error: alerts.tell(application.bot, error, None)
    application.add_error_handler(error_handler(settings, graph.translator, graph.metrics,
                                                alerts))  # fmt: skip
    return TelegramChannel(runtime, application)


def error_handler(
    settings: Settings, translator: Translator, metrics: Metrics, alerts: OperatorAlerts | None
) -> Callable[[object, BotContext], Coroutine[Any, Any, None]]:
    """The one error handler: it logs, tells the member we are on it, and tells the
    operator when ``ALERT_CHAT_ID`` is set (``alerts``, its window timed by the bot's
    clock)."""
    language = settings.default_language

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
    application: BotApplication,
    translator: Translator,
    default_language: str,
    menu: Mapping[str, Text],
) -> None:
    """Fill Telegram's command menu in each language."""
    for language in translator.languages:
        commands = [BotCommand(name, translator.render(text, language))
                    for name, text in menu.items()]  # fmt: skip
        code = None if language == default_language else language
        await application.bot.set_my_commands(commands, language_code=code)
